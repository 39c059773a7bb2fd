#!/usr/bin/env python3
"""Remote channels at scale: taipan beside py-rattler's Gateway, cold and warm, over HTTP.

Grows ../shared/bench/channels/conda-index4 x1, x10, x100 (make_scaled.py; x100 is ~564k
records, conda-forge linux-64's size), serves each with nginx on 127.0.0.1 in two forms:
`json` (repodata.json only) and `zst` (repodata.json + repodata.json.zst), and for each:

- taipan: `create --dry-run --json r-essentials` (the whole process: start, fetch or
  revalidate, index, solve, JSON), cold (empty package cache) and warm (cache filled; nginx
  sends an ETag and no Cache-Control, so a warm run revalidates and gets a 304), and warm
  `--offline` (no request); max RSS from /usr/bin/time;
- py-rattler (the same rattler engine, ../shared/bench/requirements.txt): a fresh process
  running `rattler.solve()` through a `Gateway` with the same cache directory, cold and warm;
  max RSS of that process.

and `sharded` (CEP-16 shards written by bench/make_sharded.py from the same repodata; the
scaled channels have no package files for rattler_index to shard).

Each size also gets taipan's warm run on the same channel as a `file://` directory: the issue's
reference point (35 ms at ×100 when the 50 ms target was set), measured in the same run so the
ratio of a remote warm run to it does not depend on how fast the machine is that day.

    bench/remote_bench.py [--factors 1,10,100] [--repeat 5] [--work /tmp/taipan-remote]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, textwrap, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = os.environ.get("VENV", "/tmp/bench-venv")

PEER = textwrap.dedent("""
    import asyncio, json, resource, sys, time
    import rattler
    from rattler import Gateway, GenericVirtualPackage, PackageName, Version, BuildString
    url, cache = sys.argv[1], sys.argv[2]
    vp = [GenericVirtualPackage(PackageName(n), Version(v), BuildString(b))
          for n, v, b in (s.split("=") for s in json.loads(sys.argv[3]))]
    async def main():
        t0 = time.perf_counter()
        out = await rattler.solve([url], ["r-essentials"], gateway=Gateway(cache_dir=cache),
                                  platforms=["linux-64", "noarch"], virtual_packages=vp)
        dt = (time.perf_counter() - t0) * 1000
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"ms": dt, "n": len(out), "rss": rss}))
    asyncio.run(main())
    import os; os._exit(0)
""")


def scaled(bench, work, factor):
    target = work / f"x{factor}" / "conda-index4"
    if not (target / "linux-64/repodata.json").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        if factor == 1:
            shutil.copytree(bench / "channels/conda-index4", target)
        else:
            subprocess.run([sys.executable, str(bench / "scale/make_scaled.py"),
                            str(bench / "channels/conda-index4"), str(target), str(factor)],
                           check=True, stdout=subprocess.DEVNULL)
    return target


FORMS = ("json", "zst", "sharded")


def serve_forms(www, channel, factor):
    sharded = www / f"x{factor}-sharded"
    if not (sharded / "noarch/repodata_shards.msgpack.zst").exists():
        subprocess.run([f"{VENV}/bin/python", str(HERE / "make_sharded.py"), str(channel), str(sharded)],
                       check=True, stdout=subprocess.DEVNULL)
    for form in ("json", "zst"):
        for subdir in ("linux-64", "noarch"):
            d = www / f"x{factor}-{form}" / subdir
            d.mkdir(parents=True, exist_ok=True)
            src = channel / subdir / "repodata.json"
            dst = d / "repodata.json"
            if not dst.exists():
                os.link(src, dst) if src.stat().st_dev == d.stat().st_dev else shutil.copy(src, dst)
            if form == "zst" and not (d / "repodata.json.zst").exists():
                subprocess.run(["zstd", "-q", "-T0", "-10", str(dst), "-o", str(d / "repodata.json.zst")],
                               check=True)


def start_nginx(www, work):
    conf = work / "nginx.conf"
    port = 18000 + os.getpid() % 1000
    conf.write_text(textwrap.dedent(f"""
        daemon off; worker_processes 2; worker_rlimit_nofile 8192; pid {work}/nginx.pid; error_log {work}/error.log;
        events {{ worker_connections 4096; }}
        http {{ access_log {work}/access.log; sendfile on;
          server {{ listen 127.0.0.1:{port}; root {www}; }} }}
    """))
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(work)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, f"http://127.0.0.1:{port}"


def taipan_run(binary, url, home, extra=()):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA")}
    env.update(HOME=str(home), CONDA_ROOT_PREFIX=str(home / "root"),
               TAIPAN_SYSTEM_CONFIG_DIRS=str(home / "none"), CONDA_OVERRIDE_GLIBC="2.36",
               CONDA_OVERRIDE_CUDA="", CONDA_ADD_PIP_AS_PYTHON_DEPENDENCY="false")
    args = ["/usr/bin/time", "-f", "%M", binary, "create", "--dry-run", "--json", "--override-channels",
            "-c", url, "-p", str(home / "env"), *extra, "r-essentials"]
    t0 = time.perf_counter()
    p = subprocess.run(args, env=env, capture_output=True, text=True)
    ms = (time.perf_counter() - t0) * 1000
    if p.returncode != 0:
        raise SystemExit(f"taipan failed: {p.stderr[-2000:]}")
    n = len(json.loads(p.stdout)["actions"].get("LINK", []))
    return ms, int(p.stderr.strip().splitlines()[-1]) / 1024, n


def peer_run(url, cache, vpkgs):
    p = subprocess.run([f"{VENV}/bin/python", "-c", PEER, url, str(cache), json.dumps(vpkgs)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"py-rattler failed: {p.stderr[-2000:]}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    return r["ms"], r["rss"], r["n"]


def median_of(fn, repeat):
    runs = [fn() for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs), runs[0][2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(HERE.parent.parent / "shared"))
    ap.add_argument("--binary", default=str(HERE.parent / "target/release/taipan"))
    ap.add_argument("--factors", default="1,10,100")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cold-repeat", type=int, default=3)
    ap.add_argument("--work", default="/tmp/taipan-remote")
    a = ap.parse_args()
    bench = Path(a.shared) / "bench"
    cases = json.loads((bench / "cases.json").read_text())
    vpkgs = cases["virtual_packages"]["linux-64"]
    work = Path(a.work)
    www = work / "www"
    www.mkdir(parents=True, exist_ok=True)
    factors = [int(f) for f in a.factors.split(",")]
    local = {}
    for f in factors:
        channel = scaled(bench, Path("/tmp/taipan-scale"), f)
        serve_forms(www, channel, f)
        home = Path(tempfile.mkdtemp(prefix="rb-local-", dir=work))
        taipan_run(a.binary, channel.as_uri(), home)
        local[f] = median_of(lambda: taipan_run(a.binary, channel.as_uri(), home), a.repeat)
        shutil.rmtree(home, ignore_errors=True)
        print(f"x{f} file://: warm {local[f][0]:.0f} ms/{local[f][1]:.0f} MB", flush=True)
    nginx, base = start_nginx(www, work)
    rows = []
    try:
        for f in factors:
            for form in FORMS:
                url = f"{base}/x{f}-{form}/"
                tmp = Path(tempfile.mkdtemp(prefix="rb-", dir=work))

                def cold_taipan():
                    home = Path(tempfile.mkdtemp(dir=tmp))
                    return taipan_run(a.binary, url, home)

                def cold_peer():
                    return peer_run(url, Path(tempfile.mkdtemp(dir=tmp)), vpkgs)

                tc = median_of(cold_taipan, a.cold_repeat)
                pc = median_of(cold_peer, a.cold_repeat)
                home = Path(tempfile.mkdtemp(dir=tmp))
                taipan_run(a.binary, url, home)
                tw = median_of(lambda: taipan_run(a.binary, url, home), a.repeat)
                to = median_of(lambda: taipan_run(a.binary, url, home, ["--offline"]), a.repeat)
                pcache = Path(tempfile.mkdtemp(dir=tmp))
                peer_run(url, pcache, vpkgs)
                pw = median_of(lambda: peer_run(url, pcache, vpkgs), a.repeat)
                shutil.rmtree(tmp, ignore_errors=True)
                row = dict(factor=f, form=form, taipan_cold=tc, peer_cold=pc, taipan_warm=tw,
                           taipan_offline=to, peer_warm=pw)
                rows.append(row)
                print(f"x{f} {form}: cold {tc[0]:.0f} ms/{tc[1]:.0f} MB vs {pc[0]:.0f} ms/{pc[1]:.0f} MB "
                      f"({tc[0] / pc[0]:.2f}x); warm {tw[0]:.0f} ms/{tw[1]:.0f} MB, offline {to[0]:.0f} ms "
                      f"vs {pw[0]:.0f} ms/{pw[1]:.0f} MB ({tw[0] / pw[0]:.2f}x); packages {tw[2]} / {pw[2]}",
                      flush=True)
    finally:
        nginx.terminate()
    print()
    print("| size | form | taipan cold ms / MB | py-rattler cold ms / MB | cold ratio | taipan warm (304) ms / MB "
          "| taipan --offline ms | py-rattler warm ms / MB | warm ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        tc, pc, tw, to, pw = r["taipan_cold"], r["peer_cold"], r["taipan_warm"], r["taipan_offline"], r["peer_warm"]
        print(f"| x{r['factor']} | {r['form']} | {tc[0]:.0f} / {tc[1]:.0f} | {pc[0]:.0f} / {pc[1]:.0f} | "
              f"**{tc[0] / pc[0]:.2f}×** | {tw[0]:.0f} / {tw[1]:.0f} | {to[0]:.0f} | {pw[0]:.0f} / {pw[1]:.0f} | "
              f"**{tw[0] / pw[0]:.2f}×** |")
    print()
    print("| size | taipan file:// warm ms / MB | " + " | ".join(f"{f} warm / file://" for f in FORMS) + " |")
    print("|---|---:|" + "---:|" * len(FORMS))
    for f in factors:
        warm = {r["form"]: r["taipan_warm"][0] for r in rows if r["factor"] == f}
        cells = " | ".join(f"{warm[form] / local[f][0]:.2f}×" for form in FORMS if form in warm)
        print(f"| x{f} | {local[f][0]:.0f} / {local[f][1]:.0f} | {cells} |")


if __name__ == "__main__":
    main()
