-- schema.sql - the test schema (x-itm.seed sql step)
CREATE TABLE items (
  id integer PRIMARY KEY,
  name text NOT NULL,
  price numeric(10, 2) NOT NULL
);
CREATE INDEX items_name ON items (name);
