#!/usr/bin/env bash
# One model of two recordings against a model of each (docs/results.md, "Several recordings, one
# model"): the Lurz et al. 2021 recording split into two disjoint neuron halves (even and odd
# neuron indices), treated as two recordings of the same images. Every model gets the same number
# of passes over each recording's train trials (--epochs), so the figures do not depend on the
# machine's load. Needs ../shared/data and /usr/bin/python3 with h5py.
#   bash tests/bench/lurz_halves.sh BUILD_DIR [EPOCHS] [OUT_DIR]
set -euo pipefail
build=${1:?build folder, e.g. build/release}
epochs=${2:-10}
out=${3:-lurz-halves}
cli="$(realpath "$build")/app/cli/brainprior-cli"
lurz="$(realpath "$(dirname "$0")/../../../shared/data/mouse-v1-lurz2021/static20457-5-9-preproc0")"
mkdir -p "$out" && cd "$out"
"$cli" --quiet convert "$lurz" lurz.h5 > /dev/null
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
source = h5py.File('lurz.h5', 'r')
neurons = source['responses'].shape[1]
for name, half in (('even', np.arange(0, neurons, 2)), ('odd', np.arange(1, neurons, 2))):
    with h5py.File(f'lurz-{name}.h5', 'w') as target:
        def copy(path, item):
            if not isinstance(item, h5py.Dataset):
                return
            data = item[()]
            if path == 'responses':
                data = data[:, half]
            elif path.startswith(('neurons/', 'statistics/responses/')):
                data = data[half]
            target.create_dataset(path, data=data)
        source.visititems(copy)
        target.attrs['brainprior_name'] = f'lurz {name} neurons'
PY
summary='import json, sys; d = json.load(sys.stdin); print(json.dumps({k: d.get(k) for k in ("epochs", "best_epoch", "seconds", "test_mean_average_correlation", "test_fraction_of_oracle", "test_mean_feve", "recordings")}))'
# The two halves alone, side by side (one thread each), then the joint model on both threads.
"$cli" --quiet --threads 1 fit lurz-even.h5 --epochs "$epochs" --seed 1 -o even.pt | python3 -c "$summary" > even.json &
"$cli" --quiet --threads 1 fit lurz-odd.h5 --epochs "$epochs" --seed 1 -o odd.pt | python3 -c "$summary" > odd.json
wait
"$cli" --quiet --threads 2 fit lurz-even.h5 lurz-odd.h5 --epochs "$epochs" --seed 1 -o joint.pt | python3 -c "$summary" > joint.json
for f in even odd joint; do echo "$f: $(cat $f.json)"; done
