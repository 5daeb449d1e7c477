//! The deterministic `contact` rows: the same seed always yields the same
//! 100,000 records, so runs on different machines query identical data.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const SEED: u64 = 0x00C0_FFEE;

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Ana",
    "Luis",
    "Chen",
    "Yuki",
    "Fatima",
    "Omar",
    "Ingrid",
    "Lars",
    "Priya",
    "Arjun",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
];
pub const CITIES: &[&str] = &[
    "New York",
    "Los Angeles",
    "Chicago",
    "Houston",
    "Phoenix",
    "Philadelphia",
    "San Antonio",
    "San Diego",
    "Dallas",
    "San Jose",
    "Austin",
    "Jacksonville",
    "Columbus",
    "Charlotte",
    "Indianapolis",
    "Seattle",
    "Denver",
    "Boston",
    "Nashville",
    "Detroit",
    "Portland",
    "Memphis",
    "Louisville",
    "Baltimore",
    "Milwaukee",
    "Albuquerque",
    "Tucson",
    "Fresno",
    "Sacramento",
    "Atlanta",
    "Miami",
    "Omaha",
    "Raleigh",
    "Oakland",
    "Minneapolis",
    "Tulsa",
    "Cleveland",
    "Wichita",
    "Arlington",
    "Tampa",
    "London",
    "Paris",
    "Berlin",
    "Madrid",
    "Lisbon",
    "Rome",
    "Vienna",
    "Prague",
    "Dublin",
    "Oslo",
];
const WORDS: &[&str] = &[
    "customer",
    "prefers",
    "email",
    "contact",
    "called",
    "about",
    "renewal",
    "invoice",
    "pending",
    "meeting",
    "scheduled",
    "follow",
    "up",
    "next",
    "week",
    "interested",
    "in",
    "premium",
    "plan",
    "discount",
    "requested",
    "support",
    "ticket",
    "resolved",
    "quickly",
    "happy",
    "with",
    "service",
    "referral",
    "from",
    "partner",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub city: &'static str,
    pub age: u32,
    pub score: f64,
    /// `YYYY-MM-DD HH:MM:SS`, understood by every target database.
    pub created_at: String,
    pub notes: String,
}

/// Yields the rows in order; row `i` (0-based) gets id `i + 1` on insert.
pub struct Rows {
    rng: ChaCha8Rng,
    index: u64,
}

impl Rows {
    pub fn new() -> Rows {
        Rows {
            rng: ChaCha8Rng::seed_from_u64(SEED),
            index: 0,
        }
    }
}

impl Default for Rows {
    fn default() -> Self {
        Rows::new()
    }
}

impl Iterator for Rows {
    type Item = Contact;

    fn next(&mut self) -> Option<Contact> {
        let r = &mut self.rng;
        self.index += 1;
        let first = FIRST[r.random_range(0..FIRST.len())];
        let last = LAST[r.random_range(0..LAST.len())];
        let city = CITIES[r.random_range(0..CITIES.len())];
        let age = r.random_range(18..=90);
        let score = (r.random_range(0.0..100.0f64) * 100.0).round() / 100.0;
        // Four years of creation times from 2020-01-01.
        let secs = r.random_range(0..4 * 365 * 86_400u64);
        let mut notes = String::with_capacity(110);
        while notes.len() < 100 {
            if !notes.is_empty() {
                notes.push(' ');
            }
            notes.push_str(WORDS[r.random_range(0..WORDS.len())]);
        }
        Some(Contact {
            first_name: first.into(),
            last_name: last.into(),
            email: format!(
                "{}.{}{}@example.com",
                first.to_lowercase(),
                last.to_lowercase(),
                self.index
            ),
            city,
            age,
            score,
            created_at: timestamp(1_577_836_800 + secs),
            notes,
        })
    }
}

/// Formats Unix seconds as a UTC `YYYY-MM-DD HH:MM:SS`.
pub fn timestamp(unix: u64) -> String {
    let (days, rem) = (unix / 86_400, unix % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_in_range() {
        let a: Vec<Contact> = Rows::new().take(50).collect();
        let b: Vec<Contact> = Rows::new().take(50).collect();
        assert_eq!(a, b);
        for c in &a {
            assert!((18..=90).contains(&c.age));
            assert!(c.notes.len() >= 100 && c.notes.len() < 120);
            assert!(c.created_at.starts_with("202"));
        }
    }

    #[test]
    fn dates() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00");
        assert_eq!(timestamp(1_709_210_096), "2024-02-29 12:34:56");
    }
}
