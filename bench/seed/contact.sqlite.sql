-- The benchmark dataset for SQLite: table `contact`, 100,000 deterministic rows.
DROP TABLE IF EXISTS contact;
CREATE TABLE contact (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    first_name VARCHAR(50) NOT NULL,
    last_name VARCHAR(50) NOT NULL,
    email VARCHAR(100) NOT NULL,
    city VARCHAR(50) NOT NULL,
    age INTEGER NOT NULL,
    score DOUBLE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    notes TEXT
);
WITH RECURSIVE seq (g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < 100000)
INSERT INTO contact (first_name, last_name, email, city, age, score, created_at, notes)
SELECT
    CASE (g * 7) % 20 WHEN 0 THEN 'Ada' WHEN 1 THEN 'Alan' WHEN 2 THEN 'Grace' WHEN 3 THEN 'Linus'
        WHEN 4 THEN 'Ken' WHEN 5 THEN 'Dennis' WHEN 6 THEN 'Barbara' WHEN 7 THEN 'Edsger' WHEN 8 THEN 'Donald'
        WHEN 9 THEN 'Frances' WHEN 10 THEN 'John' WHEN 11 THEN 'Margaret' WHEN 12 THEN 'Niklaus'
        WHEN 13 THEN 'Radia' WHEN 14 THEN 'Tim' WHEN 15 THEN 'Vint' WHEN 16 THEN 'Whitfield'
        WHEN 17 THEN 'Adele' WHEN 18 THEN 'Bjarne' ELSE 'Guido' END,
    'Last' || substr('0000' || ((g * 7919) % 5000), -4, 4),
    'user' || g || '@example.com',
    'City' || substr('00' || ((g * 31) % 50), -2, 2),
    18 + (g * 17) % 73,
    ((g * 7919) % 100000) / 1000.0,
    datetime('2020-01-01', '+' || ((g * 37) % 1000000) || ' minutes'),
    hex(randomblob(0)) || printf('%.100c', 'n')
FROM seq;
CREATE INDEX contact_last_name ON contact (last_name);
CREATE INDEX contact_city ON contact (city);
ANALYZE;
