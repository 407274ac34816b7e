-- For every survey batch: raw rows = staged + quarantined + superseded rows, and raw
-- holds exactly the rows the extractor recorded in raw._batches
-- (int_survey_batches_reconciled says what each is). A row here vanished or was counted twice.
select *
from {{ ref('int_survey_batches_reconciled') }}
where not is_reconciled
