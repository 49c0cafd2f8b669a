#include "pollscope/block_on.hpp"

#include <thread>

namespace pollscope::detail {

namespace {
// block_on_busy's waker when traced: does nothing, like Waker::noop(), but leaves a
// trace of every call so the page can show wakes that go nowhere. `data` is the
// driver; it is only dereferenced from the driver's own thread while it runs.
void traced_noop(const void* data, EventKind kind) {
  auto* core = static_cast<ExecutorCore*>(const_cast<void*>(data));
  if (tls_scope.core != core || !core->tracing()) return;
  Event e;
  e.kind = kind;
  e.task = 1;
  e.source = core->classify_wake(1, e.other);
  if (e.source == WakeSource::self) tls_scope.woke_self = true;
  core->emit(std::move(e));
}
constexpr RawWakerVTable traced_noop_vtable{
    [](const void* data) noexcept { return RawWaker{data, &traced_noop_vtable}; },
    [](const void* data) noexcept { traced_noop(data, EventKind::wake); },
    [](const void* data) noexcept { traced_noop(data, EventKind::wake_by_ref); },
    [](const void*) noexcept {},
};

Waker make_waker(BlockOnDriver* driver, BlockOnDriver::Mode mode, Parker* parker) {
  if (mode == BlockOnDriver::Mode::parking) return WakerAccess::borrow(parker->raw_waker());
  if (driver->tracing()) return Waker::from_raw(RawWaker{driver, &traced_noop_vtable});
  return Waker::noop();
}
}  // namespace

BlockOnDriver::BlockOnDriver(const ExecutorOptions& options, Mode mode)
    : ExecutorCore(options, /*offers_timers=*/mode == Mode::parking),
      mode_(mode),
      reusable_(reusable(options, mode)),
      parker_(mode == Mode::parking ? Parker::acquire() : nullptr),
      waker_(make_waker(this, mode, parker_)),
      cx_(waker_),
      max_polls_(options.max_polls) {
  if (parker_) parker_->core.store(this, std::memory_order_relaxed);
  if (tracing()) emit(EventKind::spawn, 1);
}

BlockOnDriver::~BlockOnDriver() {
  timers().clear();
  if (parker_) {
    WakerAccess::forget(waker_);  // the driver's own reference goes back with the parker
    Parker::recycle(parker_);
  }
}

namespace {
/// Frees the thread's spare driver when the thread exits, and closes the cache.
struct BlockOnCacheFlush {
  ~BlockOnCacheFlush() {
    tls_block_on_cache.open = false;
    delete std::exchange(tls_block_on_cache.spare, nullptr);
  }
};
}  // namespace

BlockOnDriver* BlockOnDriver::acquire_slow(const ExecutorOptions& options, Mode mode) {
  if (reusable(options, mode) && !tls_block_on_cache.open) {
    // The first reusable driver of this thread: register the hook that frees the
    // spare at thread exit (constructing the thread_local registers its destructor).
    static thread_local BlockOnCacheFlush flush;
    (void)flush;
    tls_block_on_cache.open = true;
  }
  return new BlockOnDriver(options, mode);
}

void BlockOnDriver::release_slow(BlockOnDriver* driver) noexcept {
  if (!driver->reusable_ || tls_block_on_cache.spare != nullptr || !tls_block_on_cache.open) {
    delete driver;
    return;
  }
  // Make it as good as new: no timers, and a parker that no leftover waker can reach
  // (a waker kept by the finished future must not wake the next call).
  driver->timers().clear();
  driver->timers_used_ = false;
  if (!driver->parker_->exclusive()) {
    WakerAccess::forget(driver->waker_);
    Parker::recycle(driver->parker_);
    driver->parker_ = Parker::acquire();
    driver->parker_->core.store(driver, std::memory_order_relaxed);
    driver->waker_ = WakerAccess::borrow(driver->parker_->raw_waker());
  }
  tls_block_on_cache.spare = driver;
}

void BlockOnDriver::exhausted() {
  tls_scope.polling = 0;
  if (tracing()) emit(EventKind::budget_exhausted, 0, polls_);
  throw RunError(RunReport{RunStatus::budget_exhausted, {}, polls_});
}

void BlockOnDriver::ready_events() {
  emit(EventKind::poll_ready, 1);
  emit(EventKind::complete, 1);
}

void BlockOnDriver::after_exception(const std::exception_ptr& error) {
  tls_scope.polling = 0;
  if (!tracing()) return;
  Event e;
  e.kind = EventKind::task_error;
  e.task = 1;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& ex) {
    e.message = ex.what();
  } catch (...) {
    e.message = "unknown exception";
  }
  emit(EventKind::poll_ready, 1);
  emit(std::move(e));
  emit(EventKind::complete, 1);
}

void BlockOnDriver::after_pending() {
  const bool woke_self = tls_scope.woke_self;
  tls_scope.polling = 0;
  if (tracing()) {
    Event e;
    e.kind = EventKind::poll_pending;
    e.task = 1;
    e.source = woke_self ? WakeSource::self : WakeSource::none;
    emit(std::move(e));
  }
  if (mode_ == Mode::busy) {
    wait_busy();
  } else {
    wait_parked();
  }
}

void BlockOnDriver::wait_busy() {
  if (clock().is_virtual()) {
    clock().advance_to(now() + kBusyPollInterval);
  } else {
    std::this_thread::sleep_for(kBusyPollInterval);
  }
}

void BlockOnDriver::wait_parked() {
  for (;;) {
    if (parker_->take_notification()) return;
    if (auto deadline = timers().next_deadline()) {
      if (clock().is_virtual()) {
        clock().advance_to(*deadline);
      } else if (now() < *deadline) {
        Event park_event;
        if (tracing()) {
          park_event.kind = EventKind::park;
          park_event.deadline = *deadline;
          emit(std::move(park_event));
        }
        const bool notified = parker_->park(clock().real_time_of(*deadline));
        if (tracing()) {
          Event e;
          e.kind = EventKind::unpark;
          e.source = notified ? WakeSource::thread : WakeSource::timer;
          emit(std::move(e));
        }
        if (notified) return;
      }
      timers().fire_due(now());
      continue;
    }
    if (!clock().is_virtual() && parker_->live_wakers() > 0) {
      // A waker lives on somewhere (maybe another thread): wait for it, or until the
      // last one is dropped unwoken (the parker re-reads the count then, see
      // Parker::outside_wait_): then nothing can wake the future, and it is a stall,
      // reported without polling the future again.
      if (tracing()) emit(EventKind::park, 0);
      const bool notified = parker_->park_while_wakers_alive();
      if (tracing()) {
        Event e;
        e.kind = EventKind::unpark;
        e.source = WakeSource::thread;
        emit(std::move(e));
      }
      if (notified) return;
      continue;  // no timer can have appeared meanwhile: this reaches the stall below
    }
    // The last waker may have been woken (or woken by ref, then dropped) on another
    // thread since the first check: it notifies before its count drops.
    if (parker_->take_notification()) return;
    if (tracing()) emit(EventKind::stall, 1);
    throw RunError(RunReport{RunStatus::stalled, {1}, polls_});
  }
}

}  // namespace pollscope::detail
