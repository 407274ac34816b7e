-- What the file reader (issue 16) records of each loaded file, beside its checksum and
-- 合计 check: the format it was read as, a CSV's encoding, the rows under the header
-- that were not records (totals, footers, headings, repeated headers), the headers no
-- column or alias stands for, and the period the file's name or folder says with the
-- window its rows must fall in. Staging quarantines rows outside that window as
-- `wrong month` (sources/fire, sources/survey base models).
alter table raw._files add column if not exists file_format     text;
alter table raw._files add column if not exists encoding        text;  -- csv only
alter table raw._files add column if not exists skipped_rows    text;  -- e.g. 'footer: 12, 13; total: 11'
alter table raw._files add column if not exists ignored_columns text;
alter table raw._files add column if not exists period          text;  -- '2024-10' or '2024Q3'
alter table raw._files add column if not exists rows_from       date;  -- period start less the late window
alter table raw._files add column if not exists rows_until      date;  -- period end (exclusive)
