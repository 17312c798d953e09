//! Timings of the Rust core alone, without Python: the cron search and field
//! compilation. `cargo bench --bench core_timing` prints nanoseconds per call.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use apscheduler_rs::time::civil;
use apscheduler_rs::time::tzif::TzifZone;
use apscheduler_rs::time::{Aware, Zone};
use apscheduler_rs::triggers::cron::fields::FieldKind;
use apscheduler_rs::triggers::cron::Cron;

fn given(fields: &[(FieldKind, &str)]) -> Vec<(FieldKind, String)> {
    fields.iter().map(|(kind, text)| (*kind, text.to_string())).collect()
}

fn main() {
    let Ok(data) = std::fs::read("/usr/share/zoneinfo/Europe/Berlin") else {
        eprintln!("no /usr/share/zoneinfo/Europe/Berlin on this machine");
        return;
    };
    let Ok(tzif) = TzifZone::parse(&data) else { return };
    let zone = Zone::Tzif(Arc::new(tzif));
    let cases = [
        ("from_crontab('*/5 * * * *')", given(&[(FieldKind::Minute, "*/5"), (FieldKind::Hour, "*"), (FieldKind::Day, "*"), (FieldKind::Month, "*"), (FieldKind::DayOfWeek, "*")])),
        ("day='last fri', hour='*/3', minute='15,45'", given(&[(FieldKind::Day, "last fri"), (FieldKind::Hour, "*/3"), (FieldKind::Minute, "15,45")])),
    ];
    let Some(start_local) = civil::naive(2025, 1, 1, 0, 0, 0, 0) else { return };
    let Ok(start) = Aware::from_local(&zone, 1, start_local, false);
    for (label, fields) in &cases {
        let Ok(compiled) = Cron::compile_fields(fields) else { continue };
        let cron = Cron::new(compiled, None, None);
        let calls = 1_000_000;
        let mut fire = start;
        let timer = Instant::now();
        for i in 0..calls {
            if i % 2000 == 0 {
                fire = start;
            }
            match cron.next_fire_time(&zone, 1, Some((&fire, 0)), &fire, || None) {
                Ok(Some(next)) => fire = next,
                _ => fire = start,
            }
        }
        println!("chained next fire time, {label}: {:.0} ns", timer.elapsed().as_nanos() as f64 / calls as f64);

        let builds = 200_000;
        let timer = Instant::now();
        for _ in 0..builds {
            let _ = black_box(Cron::compile_fields(black_box(fields)));
        }
        println!("compiling the fields, {label}: {:.0} ns", timer.elapsed().as_nanos() as f64 / builds as f64);
    }
}
