-- Optional village centroids in the region master (placing records by coordinates).
alter table raw.regions__master add column if not exists longitude text;
alter table raw.regions__master add column if not exists latitude text;
