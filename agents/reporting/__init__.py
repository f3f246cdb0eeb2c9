"""Results as tables, figures and pages: statistics over seeds and paired tests (:mod:`.stats`), the HTML
report (:mod:`.html`) and the direction table against the paper's Table 5 (:mod:`.paper`). Imports no other
subpackage of ``agents``."""
