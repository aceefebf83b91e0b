# Sourced by the benchmark scripts: sets `python` to the first interpreter (of $PYTHON, python3,
# /usr/bin/python3) that imports the reference's module ($1: numpy or torch), or exits naming the
# Debian package to install.
reference_module=$1
python=""
for candidate in "${PYTHON:-}" python3 /usr/bin/python3; do
  if [[ -n $candidate ]] && "$candidate" -c "import $reference_module" 2>/dev/null; then python=$candidate; break; fi
done
[[ -n $python ]] || { echo "no Python with $reference_module found (install python3-$reference_module or set PYTHON)" >&2; exit 1; }
