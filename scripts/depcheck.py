#!/usr/bin/env python3
"""Dependency-direction check for the Lookout workspace.

Reads `cargo metadata` and fails on any edge between workspace crates that the table below
does not allow (STYLE.md, "Layout and dependency direction"). Dev-dependencies may also use
`lookout-testkit`; nothing else may. Usage:

    scripts/depcheck.py [--manifest-path Cargo.toml]      # exit 1 and list forbidden edges
"""
import argparse
import json
import subprocess
import sys

# crate directory -> workspace crates it may depend on (normal and build dependencies).
ALLOWED = {
    "model": set(),
    "filter": set(),
    "insights": set(),
    "storage": {"model"},
    "query": {"model", "filter", "insights", "storage"},
    "api": {"model"},
    "service": {"api", "model", "storage", "query", "filter"},
    "sigv4": set(),
    "server": {"api", "sigv4", "service"},
    # `lookout gen` is the generator of testkit, so the binary uses it directly.
    "cli": {"server", "api", "model", "sigv4", "testkit"},
    "logger": set(),
    # The example Lambda function: user code, so it sees only what users see.
    "logger-example": {"logger"},
    "testkit": set(),
}
# Dev-dependencies may also use the test fixtures and the generator.
DEV_EXTRA = {"testkit"}
PREFIX = "lookout-"


def short(name):
    return name[len(PREFIX):] if name.startswith(PREFIX) else name


def check(metadata):
    """Returns a list of human-readable violations."""
    members = {p["name"]: p for p in metadata["packages"] if p["id"] in metadata["workspace_members"]}
    problems = []
    for name, pkg in sorted(members.items()):
        crate = short(name)
        if not name.startswith(PREFIX):
            problems.append(f"{name}: workspace packages are named {PREFIX}<dir>")
            continue
        if crate not in ALLOWED:
            problems.append(f"{name}: not in the dependency table of scripts/depcheck.py (add it with its allowed edges)")
            continue
        for dep in pkg["dependencies"]:
            if dep["name"] not in members:
                continue
            target = short(dep["name"])
            kind = dep.get("kind") or "normal"
            allowed = ALLOWED[crate] | (DEV_EXTRA if kind == "dev" else set())
            if target == crate:
                continue
            if target not in allowed:
                problems.append(f"forbidden edge: {crate} -> {target} ({kind} dependency)")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest-path", default=None)
    args = ap.parse_args()
    cmd = ["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline"]
    if args.manifest_path:
        cmd += ["--manifest-path", args.manifest_path]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    problems = check(json.loads(out))
    if problems:
        for p in problems:
            print(f"depcheck: {p}", file=sys.stderr)
        return 1
    print(f"depcheck: ok, {len(json.loads(out)['workspace_members'])} workspace crates follow the dependency direction")
    return 0


if __name__ == "__main__":
    sys.exit(main())
