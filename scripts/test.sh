#!/usr/bin/env bash
# The whole Lookout test suite, from a fresh clone: installs what the tests need, then runs
# the format check, clippy with warnings denied, the dependency-direction check, rustdoc with
# warnings denied, every Rust test and every Python end-to-end test.
#
# Needs only the Rust toolchain, Python 3 and pip on the machine. `CI=true` turns off
# incremental compilation: a one-shot build gains nothing from it, and its caches cost
# gigabytes of disk.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${CI:-}" = "true" ]; then
  export CARGO_INCREMENTAL=0
fi

step() { printf '\n==> %s\n' "$*"; }

step "installing test dependencies"
python3 -m pip install --disable-pip-version-check --root-user-action=ignore --quiet \
  -r tests/requirements.txt
debian_packages=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' tests/debian-packages.txt)
missing=()
for pkg in $debian_packages; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
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
