#!/usr/bin/env python3
"""How taipan's dry-run time and memory grow with channel size, side by side with py-rattler.

Grows ../shared/bench/channels/conda-index4 x10, x40, x100 with ../shared/bench/scale/make_scaled.py
(x100 is about 564k records / 242 MB, conda-forge scale), then for each size times
`taipan create --dry-run --json r-essentials` (median, max RSS) and py-rattler's sparse
open + load + solve of the same request (../shared/bench/pyrattler_solve.py).

    bench/scale_bench.py [--factors 1,10,40,100] [--repeat 5] [--work /tmp/scale]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from solve_bench import taipan_case  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(HERE.parent.parent / "shared"))
    ap.add_argument("--binary", default=str(HERE.parent / "target/release/taipan"))
    ap.add_argument("--factors", default="1,10,40,100")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--work", default="/tmp/taipan-scale")
    a = ap.parse_args()
    bench = Path(a.shared) / "bench"
    cases = json.loads((bench / "cases.json").read_text())
    case = next(c for c in cases["cases"] if c["id"] == "idx4-r-essentials")
    vpkgs = cases["virtual_packages"]["linux-64"]
    venv = os.environ.get("VENV", "/tmp/bench-venv")
    work = Path(a.work)
    for factor in [int(f) for f in a.factors.split(",")]:
        chans = work / f"x{factor}"
        target = chans / "conda-index4"
        if not (target / "linux-64/repodata.json").exists():
            chans.mkdir(parents=True, exist_ok=True)
            if factor == 1:
                shutil.copytree(bench / "channels/conda-index4", target)
            else:
                subprocess.run([sys.executable, str(bench / "scale/make_scaled.py"), str(bench / "channels/conda-index4"),
                                str(target), str(factor)], check=True, stdout=subprocess.DEVNULL)
        # pyrattler_solve.py expects every shared channel beside the scaled one.
        for other in (bench / "channels").iterdir():
            link = chans / other.name
            if other.is_dir() and other.name != "conda-index4" and not link.exists():
                link.symlink_to(other)
        size_mb = (target / "linux-64/repodata.json").stat().st_size / 1e6
        home = work / f"home{factor}"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        t = taipan_case(a.binary, chans, case, vpkgs, a.repeat, str(home))
        out = work / f"py{factor}"
        subprocess.run([f"{venv}/bin/python", str(bench / "pyrattler_solve.py"), "--channels", str(chans), "--out", str(out),
                        "--repeat", str(a.repeat), "--only", "idx4-r-essentials", "--no-gateway"], check=True,
                       stdout=subprocess.DEVNULL)
        r = json.loads((out / "results.json").read_text())["results"][0]
        peer = r["open"]["median_ms"] + r["load"]["median_ms"] + r["solve"]["median_ms"]
        print(f"x{factor:<4} repodata {size_mb:7.1f} MB  taipan {t['median_ms']:8.1f} ms  rss {t['max_rss_mb']:7.1f} MB  "
              f"py-rattler open+load+solve {peer:8.1f} ms (open {r['open']['median_ms']:.1f})  ratio {t['median_ms'] / peer:5.2f}x  n={t['n']}")


if __name__ == "__main__":
    main()
