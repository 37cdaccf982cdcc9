// The discrete-event kernel: a min-heap of events keyed on (time, sequence
// number), so simultaneous events run in the order they were scheduled and a
// run is reproducible. It knows nothing of LLMs: an event is a time, a kind
// and two integers that the owner interprets.
//
// Contract: not thread-safe; O(log n) push and pop; events are never lost or
// reordered. Times are seconds. Cancelling is done by the owner (stale events
// carry a generation number in `b` and are ignored when popped).
#ifndef DISAGG_SIM_EVENT_QUEUE_H_
#define DISAGG_SIM_EVENT_QUEUE_H_

#include <cstdint>
#include <queue>
#include <vector>

namespace disagg::sim {

struct Event {
  double time = 0;
  uint64_t seq = 0;
  int kind = 0;
  int64_t a = 0;
  int64_t b = 0;
};

class EventQueue {
 public:
  void Push(double time, int kind, int64_t a = 0, int64_t b = 0) {
    heap_.push(Event{time, next_seq_++, kind, a, b});
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  const Event& top() const { return heap_.top(); }
  Event Pop() {
    Event e = heap_.top();
    heap_.pop();
    now_ = e.time;
    return e;
  }
  double now() const { return now_; }
  // Moves the clock to `time` for an event the owner handles inline instead
  // of pushing and popping it; only valid when `time` comes strictly before
  // every queued event (so the order is the same as through the heap).
  void AdvanceTo(double time) { now_ = time; }

 private:
  struct Later {
    bool operator()(const Event& x, const Event& y) const {
      return x.time != y.time ? x.time > y.time : x.seq > y.seq;
    }
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  uint64_t next_seq_ = 0;
  double now_ = 0;
};

}  // namespace disagg::sim

#endif  // DISAGG_SIM_EVENT_QUEUE_H_
