#!/usr/bin/env bash
# Builds and runs every test (they read ../shared beside the checkout), the NuGet smoke script and every notebook
# (executed copies and HTML exports stay in artifacts/notebooks), then prints one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
results="$(mktemp -d)"
dotnet test Toolkit.sln -c Release --nologo --logger "trx;LogFileName=tests.trx" --results-directory "$results" "$@"
status=$?
# The library as a NuGet package, used from an F# script (#r "nuget: EdgeLlm, 0.1.0"): counted as one more test.
smoke=passed
if ! bash scripts/nuget-smoke.sh; then smoke=failed; status=1; fi
echo "nuget-smoke: $smoke"
# Every notebook in the real .NET Interactive kernel, from the package nuget-smoke just packed: one test each.
notebooks_log="$results/notebooks.log"
if ! bash scripts/notebooks.sh | tee "$notebooks_log"; then status=1; fi
python3 - "$results" "$smoke" "$notebooks_log" <<'PY'
import glob, re, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
if sys.argv[2] == "passed": passed += 1
else: failed += 1
m = re.search(r"^notebooks: (\d+) passed, (\d+) failed$", open(sys.argv[3]).read(), re.M)
if m: passed += int(m.group(1)); failed += int(m.group(2))
else: failed += 1
for path in glob.glob(sys.argv[1] + "/**/*.trx", recursive=True):
    c = ET.parse(path).getroot().find(".//{*}Counters")
    if c is not None:
        passed += int(c.get("passed", 0)); failed += int(c.get("failed", 0)) + int(c.get("error", 0))
        skipped += int(c.get("total", 0)) - int(c.get("executed", 0))  # xunit's skipped tests are counted as not executed, not as notExecuted
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
rm -rf "$results"
exit $status
