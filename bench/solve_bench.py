#!/usr/bin/env python3
"""taipan vs the py-rattler baseline, side by side in one run (a benchmark, not a test).

For every case in ../shared/bench/cases.json it times the whole command
`taipan create --dry-run --json` (strict priority, the case's channels, platform and virtual
packages) and reads max RSS from /usr/bin/time; then it runs ../shared/bench/pyrattler_solve.py
on the same cases in the same run and prints ratios.

    bench/solve_bench.py [--shared ../shared] [--repeat 11] [--only idx4] [--out /tmp/bench-out]

On a noisy machine (shared cores, steal time), wall times of two builds can differ by 2x from
one run to the next. `--instructions --baseline OLD` compares two builds by the instructions
each case executes (valgrind's callgrind, one run per case): deterministic up to hash seeds.

    bench/solve_bench.py --instructions --baseline /tmp/taipan-old [--binary target/release/taipan]
"""
import argparse, json, os, resource, statistics, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def taipan_args(binary, channels_dir, case, vpkgs, home):
    args = [binary, "create", "--dry-run", "--json", "--override-channels", "--strict-channel-priority",
            "--platform", case["platform"], "-p", str(Path(home) / "env")]
    for ch in case["channels"]:
        args += ["-c", f"file://{channels_dir}/{ch}"]
    args += case["specs"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA")}
    env.update(HOME=home, CONDA_ROOT_PREFIX=str(Path(home) / "root"), TAIPAN_SYSTEM_CONFIG_DIRS=str(Path(home) / "none"))
    for v in vpkgs:
        name, ver = v.split("=")[0], v.split("=")[1]
        key = {"__glibc": "CONDA_OVERRIDE_GLIBC", "__linux": "CONDA_OVERRIDE_LINUX",
               "__archspec": "CONDA_OVERRIDE_ARCHSPEC", "__win": None, "__unix": None}.get(name)
        if key:
            env[key] = ver if name != "__archspec" else v.split("=")[2]
    env["CONDA_OVERRIDE_CUDA"] = ""
    # py-rattler does not apply conda's python -> pip rule; compare the same solve.
    env["CONDA_ADD_PIP_AS_PYTHON_DEPENDENCY"] = "false"
    return args, env


def instructions(binary, channels_dir, case, vpkgs, home):
    """Instructions the whole command executes (callgrind's `Collected`)."""
    args, env = taipan_args(binary, channels_dir, case, vpkgs, home)
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + args,
                       env=env, capture_output=True, text=True)
    for line in p.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1])
    raise SystemExit(f"no callgrind count for {case['id']}: {p.stderr[-1000:]}")


def taipan_case(binary, channels_dir, case, vpkgs, repeat, home):
    args, env = taipan_args(binary, channels_dir, case, vpkgs, home)
    times, rss, ok, n = [], 0, None, None
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M"] + args, env=env, capture_output=True, text=True)
        dt = (time.perf_counter() - t0) * 1000
        rss = max(rss, int(p.stderr.strip().splitlines()[-1]) if p.stderr.strip() else 0)
        ok = p.returncode == 0
        if ok and n is None:
            try:
                n = len(json.loads(p.stdout)["actions"].get("LINK", []))
            except Exception:
                n = None
        if i > 0:
            times.append(dt)
    return {"median_ms": statistics.median(times), "min_ms": min(times), "max_rss_mb": rss / 1024, "sat": ok, "n": n}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(HERE.parent.parent / "shared"))
    ap.add_argument("--binary", default=str(HERE.parent / "target/release/taipan"))
    ap.add_argument("--repeat", type=int, default=11)
    ap.add_argument("--only")
    ap.add_argument("--out", default="/tmp/bench-out")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--instructions", action="store_true", help="count instructions (valgrind) instead of timing")
    ap.add_argument("--baseline", help="with --instructions: the build to compare with")
    a = ap.parse_args()
    bench = Path(a.shared) / "bench"
    cases = json.loads((bench / "cases.json").read_text())
    if a.instructions:
        return count_instructions(a, bench, cases)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    peer = {}
    if not a.no_peer:
        venv = os.environ.get("VENV", "/tmp/bench-venv")
        if not Path(venv, "bin/python").exists():
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
            subprocess.run([f"{venv}/bin/pip", "install", "-q", "-r", str(bench / "requirements.txt")], check=True)
        cmd = [f"{venv}/bin/python", str(bench / "pyrattler_solve.py"), "--channels", str(bench / "channels"),
               "--out", str(out / "pyrattler"), "--repeat", str(a.repeat), "--no-gateway"]
        if a.only:
            cmd += ["--only", a.only]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        for r in json.loads((out / "pyrattler/results.json").read_text())["results"]:
            peer[r["id"]] = r
    rows = []
    with tempfile.TemporaryDirectory() as home:
        for case in cases["cases"]:
            if a.only and not any(s in case["id"] for s in a.only.split(",")):
                continue
            t = taipan_case(a.binary, bench / "channels", case, cases["virtual_packages"][case["platform"]], a.repeat, home)
            p = peer.get(case["id"])
            peer_ms = (p["load"]["median_ms"] + p["solve"]["median_ms"]) if p and "load" in p else None
            open_ms = p["open"]["median_ms"] if p and "open" in p else 0.0
            rows.append((case["id"], t, peer_ms, open_ms))
            ratio = f"{t['median_ms'] / peer_ms:5.2f}x" if peer_ms else "  -  "
            ratio += f" (vs open+load+solve {t['median_ms'] / (peer_ms + open_ms):5.2f}x)" if peer_ms else ""
            print(f"{case['id']:28} taipan {t['median_ms']:8.1f} ms (min {t['min_ms']:7.1f})  rss {t['max_rss_mb']:6.1f} MB  "
                  f"{'sat' if t['sat'] else 'unsat'} n={t['n']}  py-rattler load+solve {peer_ms or float('nan'):8.1f} ms  ratio {ratio}")
    (out / "taipan.json").write_text(json.dumps(rows, indent=1, default=str))


def count_instructions(a, bench, cases):
    total = {"new": 0, "old": 0}
    print("| case | baseline (M instr) | this build (M instr) | ratio |\n|---|---:|---:|---:|")
    # One home per build (their index caches may differ), each warmed by an uncounted run.
    with tempfile.TemporaryDirectory() as home_new, tempfile.TemporaryDirectory() as home_old:
        for case in cases["cases"]:
            if a.only and not any(s in case["id"] for s in a.only.split(",")):
                continue
            vp = cases["virtual_packages"][case["platform"]]

            def count(binary, home):
                args, env = taipan_args(binary, bench / "channels", case, vp, home)
                subprocess.run(args, env=env, capture_output=True)
                return instructions(binary, bench / "channels", case, vp, home)

            new = count(a.binary, home_new)
            old = count(a.baseline, home_old) if a.baseline else None
            total["new"] += new
            total["old"] += old or 0
            ratio = f"{new / old:.3f}×" if old else "-"
            print(f"| {case['id']} | {(old or 0) / 1e6:.1f} | {new / 1e6:.1f} | {ratio} |", flush=True)
    if a.baseline:
        print(f"| all | {total['old'] / 1e6:.1f} | {total['new'] / 1e6:.1f} | {total['new'] / total['old']:.3f}× |")


if __name__ == "__main__":
    main()
