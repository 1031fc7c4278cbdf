#!/usr/bin/python3
"""Is a twin the sample's model?  Loads weights trained by layerc (exported
as .npz, in the sample's layer order) into the twin, tensor by tensor in
the twin's own order (the shapes must agree one for one: the same layers
in the same order), and compares the twin's outputs in eval mode with
those of `layerc predict` on the same CSV rows.

  /usr/bin/python3 bench/twins/same.py NAME W.npz DATA.csv PREDICTIONS

Exit 0 when every output agrees within 1e-4 of its row's largest."""
import importlib
import io
import sys
import zipfile

import numpy as np
import torch


def main(name, npz, data, predictions):
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    model = importlib.import_module(name).build().eval()
    with zipfile.ZipFile(npz) as z:
        ours = [(entry[:-4], np.load(io.BytesIO(z.read(entry)))) for entry in z.namelist()]
    state = model.state_dict()
    theirs = [k for k in state if not k.endswith("num_batches_tracked")]
    if len(theirs) != len(ours):
        raise SystemExit(f"{name}: {len(ours)} tensors in {npz}, {len(theirs)} in the twin")
    for (lname, value), tname in zip(ours, theirs):
        if tuple(value.shape) != tuple(state[tname].shape):
            raise SystemExit(f"{name}: {lname} {value.shape} does not fit the twin's {tname} {tuple(state[tname].shape)}")
        state[tname] = torch.from_numpy(value.copy())
    model.load_state_dict(state)
    rows = np.loadtxt(data, delimiter=",", dtype=np.float32, ndmin=2)
    want = np.loadtxt(predictions, delimiter=",", dtype=np.float64, ndmin=2)
    x = torch.from_numpy(rows)
    first = next(m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)))
    x = x[:, :784].reshape(-1, 1, 28, 28) if isinstance(first, torch.nn.Conv2d) else x[:, :784]
    with torch.no_grad():
        out = model(x)
        if want.shape[1] == 10:
            out = torch.softmax(out, 1)
    got = out.double().numpy()
    scale = np.abs(want).max(axis=1, keepdims=True)
    worst = (np.abs(got - want) / scale).max()
    same_class = want.shape[1] != 10 or (got.argmax(1) == want.argmax(1)).all()
    print(f"{name}: {len(ours)} tensors loaded; {got.shape[0]} rows, worst difference {worst:.2e} of the row's largest"
          + ("" if want.shape[1] != 10 else ", the same classes" if same_class else ", classes differ"))
    return 0 if worst <= 1e-4 and same_class else 1


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
