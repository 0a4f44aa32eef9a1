"""HQ's consolidated reports: the store reports' pure functions fed with HQ's fact rows.

- `scope`: which stores and business days a report covers;
- `facts`: HQ's projections (hq_receipts, hq_receipt_payments, hq_receipt_lines,
  hq_ledger_entries) reduced to store_server.reports fact rows, one per store;
- `catalog`: the named reports `hqctl report` and HqReportService run, as
  store_server.reports.table.Table (rendered by the store's own output, Excel
  and chart code).
"""
