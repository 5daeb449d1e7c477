-- The benchmark dataset for PostgreSQL: table `contact`, 100,000 deterministic rows.
-- Idempotent: drops and recreates the table. `loadgen seed` makes the same shape.
DROP TABLE IF EXISTS contact;
CREATE TABLE contact (
    id serial PRIMARY KEY,
    first_name varchar(50) NOT NULL,
    last_name varchar(50) NOT NULL,
    email varchar(100) NOT NULL,
    city varchar(50) NOT NULL,
    age integer NOT NULL,
    score double precision NOT NULL,
    created_at timestamp NOT NULL,
    notes text
);
INSERT INTO contact (first_name, last_name, email, city, age, score, created_at, notes)
SELECT
    (ARRAY['Ada','Alan','Grace','Linus','Ken','Dennis','Barbara','Edsger','Donald','Frances',
           'John','Margaret','Niklaus','Radia','Tim','Vint','Whitfield','Adele','Bjarne','Guido'])[1 + (g * 7) % 20],
    'Last' || lpad(((g * 7919) % 5000)::text, 4, '0'),
    'user' || g || '@example.com',
    'City' || lpad(((g * 31) % 50)::text, 2, '0'),
    18 + (g * 17) % 73,
    ((g * 7919) % 100000) / 1000.0,
    timestamp '2020-01-01' + ((g * 37) % 1000000) * interval '1 minute',
    md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text) || substr(md5((g + 3)::text), 1, 4)
FROM generate_series(1, 100000) AS g;
CREATE INDEX contact_last_name ON contact (last_name);
CREATE INDEX contact_city ON contact (city);
ANALYZE contact;
