-- The benchmark dataset for MySQL/MariaDB: table `contact`, 100,000 deterministic rows.
DROP TABLE IF EXISTS contact;
CREATE TABLE contact (
    id int AUTO_INCREMENT PRIMARY KEY,
    first_name varchar(50) NOT NULL,
    last_name varchar(50) NOT NULL,
    email varchar(100) NOT NULL,
    city varchar(50) NOT NULL,
    age int NOT NULL,
    score double NOT NULL,
    created_at datetime NOT NULL,
    notes text
);
-- MariaDB caps recursive CTEs at max_recursive_iterations (MySQL 8: cte_max_recursion_depth).
SET SESSION max_recursive_iterations = 200000;
INSERT INTO contact (first_name, last_name, email, city, age, score, created_at, notes)
WITH RECURSIVE seq (g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < 100000)
SELECT
    ELT(1 + (g * 7) % 20, 'Ada','Alan','Grace','Linus','Ken','Dennis','Barbara','Edsger','Donald','Frances',
        'John','Margaret','Niklaus','Radia','Tim','Vint','Whitfield','Adele','Bjarne','Guido'),
    CONCAT('Last', LPAD((g * 7919) % 5000, 4, '0')),
    CONCAT('user', g, '@example.com'),
    CONCAT('City', LPAD((g * 31) % 50, 2, '0')),
    18 + (g * 17) % 73,
    ((g * 7919) % 100000) / 1000.0,
    TIMESTAMPADD(MINUTE, (g * 37) % 1000000, '2020-01-01'),
    CONCAT(MD5(g), MD5(g + 1), MD5(g + 2), SUBSTR(MD5(g + 3), 1, 4))
FROM seq;
CREATE INDEX contact_last_name ON contact (last_name);
CREATE INDEX contact_city ON contact (city);
ANALYZE TABLE contact;
