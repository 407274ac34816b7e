-- For every traffic batch: raw rows = staged + quarantined + superseded, and raw
-- holds exactly the rows the extractor recorded in raw._batches.
select *
from {{ ref('int_traffic_batches_reconciled') }}
where not is_reconciled
