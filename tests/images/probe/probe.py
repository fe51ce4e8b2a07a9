"""A container program for tests: does what ``--action`` says, as a misbehaving simulation
would, and reports what happened on stdout (and in /output/probe.json)."""

import argparse
import json
import os
import socket
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--action", required=True)
    parser.add_argument("--target", default="")
    parser.add_argument("--seconds", type=float, default=0.0)
    parser.add_argument("--megabytes", type=int, default=0)
    args, _ = parser.parse_known_args()
    report: dict[str, object] = {"action": args.action, "user": os.getuid()}
    if args.action == "connect":
        host, port = args.target.rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=3).close()
            report["connected"] = True
        except OSError as exc:
            report["connected"], report["error"] = False, str(exc)
    elif args.action == "allocate":
        hoard = []
        for _ in range(args.megabytes):
            hoard.append(bytearray(1024 * 1024))
            hoard[-1][::4096] = b"\x01" * (1024 * 1024 // 4096)
        report["allocated_mb"] = len(hoard)
    elif args.action == "fork":
        children = 0
        try:
            while children < 10_000:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                children += 1
        except OSError as exc:
            report["error"] = str(exc)
        report["children"] = children
        print(json.dumps(report), flush=True)
        return 3 if "error" in report else 0
    elif args.action == "write":
        written = {}
        for path in ("/etc/probe", "/opt/probe", "/probe", "/input/probe", "/tmp/probe",
                     "/dev/shm/probe", "/output/probe.txt"):
            try:
                with open(path, "w") as handle:
                    handle.write("x")
                written[path] = True
            except OSError:
                written[path] = False
        report["written"] = written
    elif args.action == "sleep":
        print("going to sleep", flush=True)
        time.sleep(args.seconds)
    elif args.action == "fail":
        for i in range(20):
            print(f"line {i}", flush=True)
        print("something went wrong", file=sys.stderr, flush=True)
        return 4
    elif args.action == "print":
        line = 0
        while True:  # until killed
            print(f"line {line} at {time.time():.3f}", flush=True)
            line += 1
            time.sleep(args.seconds)
    elif args.action == "environment":
        report["environment"] = dict(os.environ)
    elif args.action == "progress":
        for step in range(5):
            print(f"progress {step / 4:.2f}", flush=True)
            print(f"step {step}", flush=True)
            time.sleep(0.05)
    os.makedirs("/output", exist_ok=True)
    with open("/output/probe.json", "w") as handle:
        json.dump(report, handle)
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
