"""Round trips to the Engine API: raw socket, http.client, requests-unixsocket, docker-py.

    .venv/bin/python benchmarks/api_latency.py [--repeat 300]

Prints one row per way and endpoint (median and 90th percentile, in ms). Measures,
never passes or fails: the numbers depend on the machine and on its load.
"""

import argparse
import platform

import docker

import labhelpers as lab
from labhelpers.rawapi import latency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300, help="round trips per way and endpoint")
    args = parser.parse_args()
    client = lab.client()
    version = client.version()
    used = client.api.api_version  # negotiated: the older of the engine's newest and docker-py's
    print(f"engine {version['Version']} (API {version['MinAPIVersion']} to {version['ApiVersion']}), "
          f"docker-py {docker.__version__}, API {used} for every way, Python {platform.python_version()}, "
          f"{args.repeat} round trips each, interleaved")
    table = latency.measure(repeat=args.repeat, version=used)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
