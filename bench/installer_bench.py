#!/usr/bin/env python3
"""Installer benchmark: build and run taipan installers, side by side with py-rattler
installing the same packages (cold package cache, fresh prefix each run).

  - a 100-package synthetic distribution made with the test kit (100 x 40 files);
  - the default distribution (distribution/construct.yaml).

    bench/installer_bench.py [--repeat 7]      (needs the py-rattler venv of ../shared/bench)
Target: the installer's end-to-end install within 1.5x of py-rattler's install.
"""
import argparse, asyncio, os, shutil, statistics, subprocess, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def timed(cmd, **kw):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    return (time.perf_counter() - t0) * 1000


PEER = r'''
import asyncio, json, shutil, statistics, sys, time
from pathlib import Path
import rattler
from rattler import Channel, SparseRepoData
chan, work, spec, repeat = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
async def main():
    c = Channel(chan.as_uri())
    sparse = [SparseRepoData(c, sd, str(chan / sd / "repodata.json")) for sd in ("linux-64", "noarch") if (chan / sd / "repodata.json").exists()]
    records = await rattler.solve_with_sparse_repodata([spec], sparse)
    times = []
    for i in range(repeat + 1):
        prefix, cache = work / f"py{i}", work / f"pycache{i}"
        t0 = time.perf_counter()
        await rattler.install(records, prefix, cache_dir=cache, show_progress=False)
        if i:
            times.append((time.perf_counter() - t0) * 1000)
        shutil.rmtree(prefix); shutil.rmtree(cache)
    print(json.dumps({"median": statistics.median(times), "min": min(times), "n": len(records)}))
    import os; os._exit(0)
asyncio.run(main())
'''


def bench(name, spec_path, channel, top, binary, work, repeat, venv):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA")}
    env.update(HOME=str(work / "home"), CONDA_ROOT_PREFIX=str(work / "buildroot"), TAIPAN_SYSTEM_CONFIG_DIRS=str(work / "none"))
    (work / "home").mkdir(exist_ok=True)
    build_ms = timed([binary, "installer", "build", str(spec_path), "-o", str(work / "out"), "--taipan-binary", binary], env=env)
    installer = next((work / "out").glob("*.sh"))
    size_mb = installer.stat().st_size / 1e6
    runs = []
    for i in range(repeat + 1):
        prefix = work / f"inst{i}"
        t = timed(["bash", str(installer), "-b", "-p", str(prefix)], env=env)
        if i:
            runs.append(t)
        shutil.rmtree(prefix)
    peer = subprocess.run([f"{venv}/bin/python", "-c", PEER, str(channel), str(work), top, str(repeat)],
                          capture_output=True, text=True)
    if peer.returncode != 0:
        raise SystemExit(f"py-rattler failed:\n{peer.stderr}")
    import json
    p = json.loads(peer.stdout.strip().splitlines()[-1])
    ours = statistics.median(runs)
    print(f"{name:28} build {build_ms:7.0f} ms  installer {size_mb:5.1f} MB  install {ours:7.1f} ms (min {min(runs):.1f})  "
          f"py-rattler install {p['median']:7.1f} ms (min {p['min']:.1f}, {p['n']} pkgs)  ratio {ours / p['median']:4.2f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--binary", default=str(REPO / "target/release/taipan"))
    a = ap.parse_args()
    venv = os.environ.get("VENV", "/tmp/bench-venv")
    with tempfile.TemporaryDirectory(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as w:
        w = Path(w)
        # 100-package synthetic distribution.
        syn = w / "syn"
        syn.mkdir()
        subprocess.run(["cargo", "run", "-q", "-p", "taipan-testkit", "--example", "synthetic_channel", "--",
                        str(syn / "channel"), "100", "40"], check=True, cwd=REPO, stdout=subprocess.DEVNULL)
        (syn / "construct.yaml").write_text(f"name: Synthetic\nversion: 1.0\nchannels:\n  - ./channel\nspecs:\n  - pkg-099\n")
        bench("synthetic (100 packages)", syn / "construct.yaml", syn / "channel", "pkg-099", a.binary, syn, a.repeat, venv)
        # The default distribution (taipan as a conda package).
        dist = w / "dist"
        dist.mkdir()
        subprocess.run(["cargo", "run", "-q", "-p", "taipan-installer", "--example", "taipan_channel", "--",
                        str(dist / "channel"), a.binary], check=True, cwd=REPO, stdout=subprocess.DEVNULL)
        shutil.copy(REPO / "distribution/construct.yaml", dist / "construct.yaml")
        shutil.copy(REPO / "LICENSE", w / "LICENSE")
        bench("default distribution", dist / "construct.yaml", dist / "channel", "taipan", a.binary, dist, a.repeat, venv)


if __name__ == "__main__":
    main()
