#!/usr/bin/env bash
# The whole Lookout test suite, from a fresh clone: installs what the tests need, then runs
# the format check, clippy with warnings denied, the dependency-direction check, rustdoc with
# warnings denied, every Rust test and every Python end-to-end test.
#
# Needs only the Rust toolchain, Python 3 and pip on the machine. `CI=true` changes nothing
# but the pip output.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "installing test dependencies"
pip_flags=(--disable-pip-version-check --quiet)
python3 -m pip install "${pip_flags[@]}" -r tests/requirements.txt
if [ -s tests/debian-packages.txt ] && command -v apt-get >/dev/null; then
  # shellcheck disable=SC2046
  missing=$(grep -v '^#' tests/debian-packages.txt | xargs -r -n1 sh -c 'dpkg -s "$0" >/dev/null 2>&1 || echo "$0"')
  if [ -n "$missing" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  fi
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "dependency direction"
python3 scripts/depcheck.py

step "rustdoc (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "Rust tests"
if command -v cargo-nextest >/dev/null; then
  cargo nextest run --workspace --locked --no-fail-fast
  cargo test --workspace --doc --locked
else
  cargo test --workspace --locked --no-fail-fast
fi

step "Python end-to-end tests"
python3 -m pytest -q tests/python
