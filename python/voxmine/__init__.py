"""voxmine for Python: patches from a voxmine store, without files.

- stream(store, kind, **options) yields (array, row) as `mine stream` cuts
  them: negatives, positives, candidates or a whole dataset, fresh per epoch.
- voxmine.torch.PatchStream is the same as a PyTorch IterableDataset that
  splits itself over DataLoader workers and DDP ranks.
- PatchFolder reads what a file run wrote (a folder, a pack or tar shards).
- scans(store) is the table of the store's scans (patient, study, kernel,
  slice thickness, grids, lungs, findings), read from its catalog without
  the `mine` command: pd.DataFrame(voxmine.scans("store/")).

Only numpy is needed; voxmine.torch needs torch. The `mine` command comes
from the voxmine repository (`make build` puts it in bin/): on PATH, in
$VOXMINE_MINE, or passed as binary=.
"""

from .catalog import CatalogError, records, scans
from .folder import PatchFolder, read_index
from .stream import StreamError, find_mine, mine_command, read_samples, stream

__version__ = "0.1.0"
__all__ = ["scans", "records", "CatalogError", "stream", "StreamError", "PatchFolder", "read_index", "read_samples", "mine_command", "find_mine"]
