"""HQ's consolidated reports: the store reports' pure functions fed with HQ's fact rows.

- `scope`: which stores and business days a report covers;
- `facts`: HQ's projections (hq_receipts, hq_receipt_payments, hq_receipt_lines,
  hq_ledger_entries) reduced to store_server.reports fact rows, one per store;
- `line_facts`: receipt lines with HQ's master data (category, tax rate, cost)
  and each line's share of its receipt's 抹零;
- `stock_facts`, `stock_reports`: the stock each store's day close sent
  (hq_link.hq.projectors.stock): value, stocktake variance, replenishment;
- `catalog`: the named reports `hqctl report` and HqReportService run, as
  store_server.reports.table.Table (rendered by the store's own output, Excel
  and chart code).
"""
