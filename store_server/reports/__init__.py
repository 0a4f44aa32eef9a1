"""Reports and analytics: facts fetched per store, pure report functions, renderers.

Layers (so HQ can later run the same functions over many stores' rows):
- `scope`: what a report covers (store, business days or one shift);
- `facts`, `member_facts`: SQL that reduces the store's tables to small fact rows, each
  carrying its store id;
- `sales`, `products`, `members`, `stock`: pure functions over fact rows
  (integer fen and thousandths, no I/O);
- `table`: every report as a typed table; `output`, `excel`, `charts` render it;
- `catalog`: the named reports both `ReportService` and `storectl report` run.
"""
