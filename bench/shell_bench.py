#!/usr/bin/env python3
"""Activation speed: `conda shell.bash hook`, `conda shell.bash activate ENV`, and
`source PREFIX/bin/activate` end to end in bash, against running `true` as the floor.

    bench/shell_bench.py [--repeat 51]
(targets: hook and activate under 5 ms; source bin/activate under 15 ms; Python conda's hook
takes about 290 ms on this kind of machine.)
"""
import argparse, os, statistics, subprocess, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def med(cmd, env, n):
    ts = []
    for _ in range(n + 1):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        ts.append((time.perf_counter() - t0) * 1000)
    ts = ts[1:]
    return statistics.median(ts), min(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=51)
    ap.add_argument("--binary", default=str(HERE.parent / "target/release/taipan"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as w:
        w = Path(w)
        subprocess.run(["cargo", "run", "-q", "-p", "taipan-testkit", "--example", "demo_channel", "--", str(w / "ch")],
                       check=True, cwd=HERE.parent, stdout=subprocess.DEVNULL)
        env = {"HOME": str(w / "home"), "PATH": "/usr/bin:/bin", "CONDA_ROOT_PREFIX": str(w / "root")}
        (w / "home").mkdir()
        root = w / "root"
        subprocess.run([a.binary, "create", "-y", "-q", "-p", str(root), "-c", f"file://{w}/ch", "libdemo"], env=env, check=True)
        subprocess.run([str(root / "bin/conda"), "create", "-y", "-q", "-n", "demo", "-c", f"file://{w}/ch", "demo-app"], env=env, check=True)
        env.pop("CONDA_ROOT_PREFIX")
        conda = str(root / "bin/conda")
        rows = [
            ("true (process floor)", ["true"]),
            ("conda shell.bash hook", [conda, "shell.bash", "hook"]),
            ("conda shell.bash activate demo", [conda, "shell.bash", "activate", "demo"]),
            ("bash -c 'source bin/activate demo'", ["bash", "--norc", "-c", f"source {root}/bin/activate demo"]),
            ("bash -c true (bash floor)", ["bash", "--norc", "-c", "true"]),
        ]
        for label, cmd in rows:
            m, lo = med(cmd, env, a.repeat)
            print(f"{label:40} median {m:6.2f} ms   min {lo:6.2f} ms")


if __name__ == "__main__":
    main()
