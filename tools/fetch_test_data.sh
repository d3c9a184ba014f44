#!/usr/bin/env bash
# The real recordings of the golden tests, into tests/data/real/ (ignored by git), where the
# fixtures of tests/conftest.py look for them:
#   tools/fetch_test_data.sh [--offline]
# Every file is pinned to an upstream commit and must match its sha256. For each file, in order:
#   1. already in tests/data/real with the right sha256: kept;
#   2. a local copy with the right sha256 in $MICROEXP_TEST_DATA_FROM (default: ../shared/data/real
#      beside the repository, same layout): copied;
#   3. downloaded (curl) from $MICROEXP_TEST_DATA_URL/<owner>/<repo>/<commit>/<path> (default
#      https://raw.githubusercontent.com) into a temporary file, checked, then moved in place.
# --offline skips step 3. A file that fails its check is never installed. Exit status 1 when a
# file could not be provided (the golden tests that need it are then skipped; pytest's summary
# says how many golden tests ran). Environment: MICROEXP_TEST_DATA_DIR overrides the destination.
#
# Provenance (see also docs/references.md#test-events-1 and #tonic-sample):
#   event_camera_py_test_events_1/  ros-event-camera/event_camera_py tests/test_events_1/, Apache-2.0
#   tonic_sample_aedat4/sample.aedat4  neuromorphs/tonic test/test_data/sample.aedat4, GPL-3.0
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${MICROEXP_TEST_DATA_DIR:-$root/tests/data/real}
local_dir=${MICROEXP_TEST_DATA_FROM:-$root/../shared/data/real}
base_url=${MICROEXP_TEST_DATA_URL:-https://raw.githubusercontent.com}
offline=0
for arg in "$@"; do
  case $arg in
    --offline) offline=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "ERROR: fetch_test_data.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

# destination path | upstream owner/repo | commit | path in the repository | sha256
FILES="
event_camera_py_test_events_1/metadata.yaml|ros-event-camera/event_camera_py|af175d2d9caaf1ac756390fdcb78010926d5d2bf|tests/test_events_1/metadata.yaml|da3dc05251f3ed601543af33b91cc726963e818d121d151ab00ba556330314f3
event_camera_py_test_events_1/test_events_1.db3|ros-event-camera/event_camera_py|af175d2d9caaf1ac756390fdcb78010926d5d2bf|tests/test_events_1/test_events_1.db3|88489054d5d94bc0fcdf9bf230a4d306121782a9ac023d1d26c13aab11976cb0
tonic_sample_aedat4/sample.aedat4|neuromorphs/tonic|d0cb6df3ebfba018b9aac6d55f63576b46489609|test/test_data/sample.aedat4|b42f119af2548d4328e6c0f249e369a4b755d82eeb6ddceb14441492d979444c
"

sha_ok() {  # FILE SHA256
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

failed=0 kept=0 copied=0 downloaded=0
while IFS='|' read -r rel repo commit path sha; do
  [ -n "$rel" ] || continue
  target=$dest/$rel
  mkdir -p "$(dirname "$target")"
  if sha_ok "$target" "$sha"; then
    kept=$((kept + 1))
    continue
  fi
  if sha_ok "$local_dir/$rel" "$sha"; then
    cp "$local_dir/$rel" "$target.partial" && chmod u+w "$target.partial" && mv -f "$target.partial" "$target"
    echo "copied     $rel  (from $local_dir)"
    copied=$((copied + 1))
    continue
  elif [ -f "$local_dir/$rel" ]; then
    echo "WARNING: $local_dir/$rel: sha256 differs from the pinned $sha; not used" >&2
  fi
  if [ "$offline" = 1 ]; then
    echo "ERROR: $rel: not in $dest, no verified copy in $local_dir, and --offline" >&2
    failed=$((failed + 1))
    continue
  fi
  url=$base_url/$repo/$commit/$path
  if ! curl -fsSL --retry 2 -o "$target.partial" "$url"; then
    rm -f "$target.partial"
    echo "ERROR: $rel: download failed: $url" >&2
    failed=$((failed + 1))
    continue
  fi
  if ! sha_ok "$target.partial" "$sha"; then
    got=$(sha256sum "$target.partial" | cut -d' ' -f1)
    rm -f "$target.partial"
    echo "ERROR: $rel: $url has sha256 $got, expected $sha; not installed" >&2
    failed=$((failed + 1))
    continue
  fi
  mv -f "$target.partial" "$target"
  echo "downloaded $rel  ($url)"
  downloaded=$((downloaded + 1))
done <<< "$FILES"
echo "test data in $dest: $kept kept, $copied copied, $downloaded downloaded, $failed missing"
[ "$failed" = 0 ]
