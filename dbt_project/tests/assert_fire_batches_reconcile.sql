-- For every fire batch: raw rows = staged rows + quarantined rows + duplicate rows
-- (int_fire_batches_reconciled says what each is). A row here vanished or was counted twice.
select *
from {{ ref('int_fire_batches_reconciled') }}
where unaccounted_rows <> 0
