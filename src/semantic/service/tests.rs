use super::*;

#[test]
fn a_request_waits_for_the_line_ahead_shared_by_the_workers() {
    let e = Embedder::new(ModelStatus::Loading);
    // Before any pass: 10 ms a text, one worker.
    assert_eq!(e.expected_wait(0), Duration::from_millis(10));
    e.inner.workers.store(2, Ordering::Relaxed);
    e.inner.per_text_us.store(10_000, Ordering::Relaxed);
    assert_eq!(e.expected_wait(0), Duration::from_millis(5));
    // 49 ahead on two workers at 10 ms a text: 250 ms, a whole wait.
    assert_eq!(e.expected_wait(49), Duration::from_millis(250));
    // Not ready: never room, whatever the line.
    assert!(!e.has_room(Duration::from_secs(10)));
}

#[test]
fn the_newest_requests_that_can_be_answered_in_time_go_first() {
    let now = Instant::now();
    let ms = Duration::from_millis;
    let per_text = ms(10);
    // Deadlines 5, 25, 45, 250 ms away, and one with none.
    let waiting = [
        Some(now + ms(5)),
        Some(now + ms(250)),
        None,
        Some(now + ms(25)),
        Some(now + ms(45)),
    ];
    // No deadline first, then the newest; the fourth would finish at
    // 40 ms, past the 25 ms deadline, so it and the older wait.
    assert_eq!(in_time(&waiting, per_text, now), [1, 2, 4]);
    // When nothing can be in time the newest still goes, so the worker
    // never spins.
    let late = [Some(now + ms(1)), Some(now + ms(2))];
    assert_eq!(in_time(&late, per_text, now), [1]);
    // Never more than a pass holds.
    let many = vec![None; 100];
    assert_eq!(in_time(&many, per_text, now).len(), MAX_BATCH);
    assert!(in_time(&[], per_text, now).is_empty());
}

#[tokio::test]
async fn without_a_model_every_request_is_answered_at_once_with_none() {
    let e = Embedder::missing("no file");
    assert_eq!(e.query("hello", Duration::from_secs(5)).await, None);
    assert_eq!(e.stats().unavailable, 1);
    assert!(matches!(e.status(), ModelStatus::Missing { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_is_batched_and_a_repeat_comes_from_the_cache() {
    let Some(model) = crate::semantic::tests::shared_model() else {
        return;
    };
    let e = Embedder::with_model(model);
    let asks: Vec<_> = (0..20)
        .map(|i| {
            let e = e.clone();
            tokio::spawn(async move {
                e.query(&format!("question number {i}"), Duration::from_secs(60))
                    .await
            })
        })
        .collect();
    for ask in asks {
        assert!(ask.await.unwrap().is_some());
    }
    let s = e.stats();
    assert_eq!(s.embedded, 20);
    assert!(s.batches < 20, "{s:?}");
    assert!(e.query("question number 3", Duration::ZERO).await.is_some());
    assert_eq!(e.stats().cache_hits, 1);
}
