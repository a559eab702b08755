"""pytest over the notebooks (nbval): every exercise's solution runs.

``lab.solution("02-hello")`` only shows its code to a learner; here it runs, so that nbval
proves each solution works and the checks after them pass, as the stored outputs show
(they were stored with the same setting). See :mod:`labhelpers.exercises`.
"""

import os

os.environ.setdefault("LABHELPERS_RUN_SOLUTIONS", "1")
