#!/usr/bin/env python3
"""Warm-cache `taipan create` against the linking floor (`cp -al` of the same extracted files).

Builds a synthetic channel with the test kit (100 packages x 40 files by default, a chain of
dependencies), fills the package cache once, then alternates in one run:
  - taipan: `create --offline -y -q -p NEW pkg-099` (solve + link 100 packages, warm cache)
  - floor:  `cp -al` of the 100 extracted package directories into a fresh directory
and reports medians and the ratio.   bench/warm_create.py [--packages 100] [--files 40] [--repeat 11]
"""
import argparse, os, shutil, statistics, subprocess, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(cmd, **kw):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, **kw)
    return (time.perf_counter() - t0) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--packages", type=int, default=100)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=11)
    ap.add_argument("--binary", default=str(HERE.parent / "target/release/taipan"))
    # tmpfs by default: on a disk, repeated create/delete cycles slow ext4 down run after run,
    # which would measure the file system's state rather than the linker.
    ap.add_argument("--work", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=a.work) as w:
        w = Path(w)
        subprocess.run(["cargo", "run", "-q", "-p", "taipan-testkit", "--example", "synthetic_channel", "--",
                        str(w / "channel"), str(a.packages), str(a.files)], check=True, cwd=HERE.parent, stdout=subprocess.DEVNULL)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA")}
        env.update(HOME=str(w / "home"), CONDA_ROOT_PREFIX=str(w / "root"), TAIPAN_SYSTEM_CONFIG_DIRS=str(w / "none"),
                   CONDA_OVERRIDE_CUDA="")
        top = f"pkg-{a.packages - 1:03}"
        base = [a.binary, "create", "-y", "-q", "--offline", "-c", f"file://{w}/channel"]
        subprocess.run(base + ["-p", str(w / "cold"), top], check=True, env=env)
        pkgs = sorted(p for p in (w / "root/pkgs").iterdir() if p.is_dir() and p.name.startswith("pkg-"))
        ours, floor = [], []
        for i in range(a.repeat + 1):
            dst = w / f"env{i}"
            t = timed(base + ["-p", str(dst), top], env=env)
            cp_dst = w / f"cp{i}"
            cp_dst.mkdir()
            f = timed(["cp", "-al"] + [str(p) for p in pkgs] + [str(cp_dst)])
            if i > 0:
                ours.append(t)
                floor.append(f)
            shutil.rmtree(dst)
            shutil.rmtree(cp_dst)
        files = sum(1 for p in pkgs for _ in p.rglob("*"))
        o, f = statistics.median(ours), statistics.median(floor)
        print(f"{a.packages} packages, {files} cache entries: taipan warm create {o:.1f} ms (min {min(ours):.1f}), "
              f"cp -al {f:.1f} ms (min {min(floor):.1f}), ratio {o / f:.2f}x")


if __name__ == "__main__":
    main()
