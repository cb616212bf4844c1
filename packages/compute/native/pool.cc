// parallelFor (pool.h): helper threads started on first use and kept, each waiting on a
// condition variable between calls. Every helper taking part in a call checks back in before
// the call returns, so none can still be reading a finished call's task list.
#include "pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace lth {
namespace {

struct Pool {
  std::mutex mu;
  std::condition_variable wake, done;
  const std::function<void(unsigned)>* task = nullptr;
  unsigned tasks = 0;
  std::atomic<unsigned> next{0};
  uint64_t generation = 0;
  unsigned started = 0;   // helper threads alive
  unsigned invited = 0;   // helpers taking part in the current call (indices below it)
  unsigned finished = 0;  // of those, how many have checked back in

  // Claims tasks until none are left.
  void drain() {
    for (unsigned t; (t = next.fetch_add(1)) < tasks;) (*task)(t);
  }

  void helper(unsigned index) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      wake.wait(lock, [&] { return generation != seen; });
      seen = generation;
      if (index >= invited) continue;
      lock.unlock();
      drain();
      lock.lock();
      if (++finished == invited) done.notify_one();
    }
  }
};

// Never destroyed: detached helpers may still wait on it while the process exits.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

}  // namespace

void parallelFor(unsigned threads, unsigned tasks, const std::function<void(unsigned)>& task) {
  const unsigned helpers = std::min(threads, tasks) > 1 ? std::min(threads, tasks) - 1 : 0;
  if (helpers == 0) {
    for (unsigned t = 0; t < tasks; t++) task(t);
    return;
  }
  Pool& p = pool();
  // One call at a time (the addon is meant for one JS thread, but a second would wait, not race).
  static std::mutex calls;
  std::lock_guard<std::mutex> one(calls);
  {
    std::lock_guard<std::mutex> lock(p.mu);
    for (; p.started < helpers; p.started++) std::thread(&Pool::helper, &p, p.started).detach();
    p.task = &task;
    p.tasks = tasks;
    p.next.store(0);
    p.invited = helpers;
    p.finished = 0;
    p.generation++;
  }
  p.wake.notify_all();
  p.drain();
  std::unique_lock<std::mutex> lock(p.mu);
  p.done.wait(lock, [&] { return p.finished == p.invited; });
}

}  // namespace lth
