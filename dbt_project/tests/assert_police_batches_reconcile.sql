-- For every police batch: raw rows = placed + quarantined + superseded versions, and
-- raw holds exactly the rows the extractor recorded in raw._batches.
select *
from {{ ref('int_police_batches_reconciled') }}
where not is_reconciled
