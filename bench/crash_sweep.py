#!/usr/bin/env python3
"""Crash sweep: SIGKILL taipan at random moments of create, install, update, remove and
remove --all on large packages, then run the next commands and check that every prefix is
exactly its old or its new state, with no journal, temporary file or half-removed prefix
left. (The CI test `crash.rs` kills at every step of a small transaction through the debug
build's hook; this one uses the release binary and real timing.)

    bench/crash_sweep.py [--tries 50] [--scale 1] [--binary target/release/taipan]

Prints, per command: tries, held (old or new state after the next commands), and which.
"""
import argparse, hashlib, os, random, shutil, signal, subprocess, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def state(prefix: Path):
    """Every path with its content hash (or link target); history without its dates."""
    if not prefix.exists():
        return ("<absent>",)
    out = []
    for root, dirs, files in os.walk(prefix):
        for name in sorted(dirs):
            p = Path(root, name)
            rel = p.relative_to(prefix)
            if p.is_symlink():
                out.append(f"{rel} -> {os.readlink(p)}")
            else:
                out.append(f"{rel}/")
        for name in files:
            p = Path(root, name)
            rel = str(p.relative_to(prefix))
            if rel == "conda-meta/.guard":
                continue
            if p.is_symlink():
                out.append(f"{rel} -> {os.readlink(p)}")
                continue
            data = p.read_bytes()
            if rel == "conda-meta/history":
                data = b"\n".join(l for l in data.splitlines() if not l.startswith(b"==>"))
            out.append(f"{rel} {oct(p.stat().st_mode & 0o7777)} {hashlib.sha256(data).hexdigest()[:16]}")
    return tuple(sorted(out))


class World:
    def __init__(self, work: Path, binary: str, channel: str):
        self.work, self.binary, self.channel = work, binary, channel
        self.prefix = work / "env"
        self.template = work / "template"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA")}
        self.env.update(HOME=str(work / "home"), CONDA_ROOT_PREFIX=str(work / "root"),
                        TAIPAN_SYSTEM_CONFIG_DIRS=str(work / "none"))
        (work / "home").mkdir(exist_ok=True)

    def cmd(self, args, with_prefix=True):
        a = [self.binary] + args
        if with_prefix:
            a += ["--override-channels", "-c", self.channel, "-p", str(self.prefix)]
        return a

    def run(self, args, check=False):
        return subprocess.run(self.cmd(args), env=self.env, capture_output=True, text=True, check=check)

    def setup(self, specs):
        shutil.rmtree(self.template, ignore_errors=True)
        shutil.rmtree(self.prefix, ignore_errors=True)
        if specs is not None:
            self.run(["create", "-y", "-q"] + specs, check=True)
            self.prefix.rename(self.template)

    def restore(self, cold_cache):
        shutil.rmtree(self.prefix, ignore_errors=True)
        if cold_cache:
            shutil.rmtree(self.work / "root" / "pkgs", ignore_errors=True)
        if self.template.exists():
            subprocess.run(["cp", "-a", str(self.template), str(self.prefix)], check=True)

    def leftovers(self):
        found = []
        if (self.prefix / ".taipan-transaction").exists():
            found.append("journal")
        found += [p.name for p in self.work.iterdir() if "conda-removing" in p.name]
        pkgs = self.work / "root" / "pkgs"
        if pkgs.exists():
            found += [p.name for p in pkgs.iterdir() if p.name.startswith(".") or p.name.endswith(".partial")]
        return found


def sweep(world: World, name, setup, args, tries, cold_cache, rng):
    world.setup(setup)
    world.restore(cold_cache)
    old = state(world.prefix)
    t0 = time.perf_counter()
    done = world.run(args)
    duration = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{name}: the command fails on its own:\n{done.stderr}")
    new = state(world.prefix)
    held = {"old": 0, "new": 0}
    failures = []
    for i in range(tries):
        world.restore(cold_cache)
        proc = subprocess.Popen(world.cmd(args), env=world.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, duration))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        listed = subprocess.run([world.binary, "list", "-p", str(world.prefix)], env=world.env,
                                capture_output=True, text=True)
        subprocess.run([world.binary, "env", "list"], env=world.env, capture_output=True)
        world.run(["install", "--dry-run", "big-a"])
        now = state(world.prefix)
        left = world.leftovers()
        if now == old and not left:
            held["old"] += 1
        elif now == new and not left:
            held["new"] += 1
        else:
            failures.append((i, left, len(set(now) ^ set(old)), len(set(now) ^ set(new)), listed.returncode))
    total = held["old"] + held["new"]
    print(f"{name:16} {duration:6.2f} s  tries {tries:3}  held {total:3} (old {held['old']}, new {held['new']})"
          + (f"  FAILED {failures[:5]}" if failures else ""), flush=True)
    return tries, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tries", type=int, default=50)
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--binary", default=str(REPO / "target/release/taipan"))
    a = ap.parse_args()
    rng = random.Random(a.seed)
    with tempfile.TemporaryDirectory() as w:
        w = Path(w)
        channel = subprocess.run(
            ["cargo", "run", "-q", "--release", "-p", "taipan-testkit", "--example", "crash_channel", "--",
             str(w / "channel"), str(a.scale)], cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()
        world = World(w, a.binary, channel)
        cases = [
            ("create", None, ["create", "-y", "-q", "big-b", "below", "scripted"], True),
            ("install", ["big-a=1"], ["install", "-y", "-q", "big-a=2", "big-b", "below"], True),
            ("update", ["big-a=1", "below"], ["update", "-y", "-q", "big-a"], False),
            ("remove", ["big-b", "below", "scripted"], ["remove", "-y", "-q", "big-b", "below"], False),
            ("remove --all", ["big-b", "below"], ["remove", "-y", "-q", "--all"], False),
        ]
        total_tries = total_held = 0
        for name, setup, args, cold in cases:
            t, h = sweep(world, name, setup, args, a.tries, cold, rng)
            total_tries += t
            total_held += h
        print(f"{'all':16} tries {total_tries}  held {total_held}")


if __name__ == "__main__":
    main()
