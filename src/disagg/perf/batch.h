// BatchShape: the aggregate description of one forward step's batch.
//
// Contract: a plain value of sums over the sequences of a batch, so a step's
// cost never depends on the batch size's loop length (the simulator keeps
// these sums up to date incrementally). Prefill entries carry a prompt chunk
// of `new_tokens` after `context` cached tokens; decode entries one token
// after `context` (plus `decode_extra` drafted tokens verified beside them
// under speculative decoding, set by StepModel). `cap` is the model's attention cap (sliding window
// or sparse top-k; 0 = none): the `_capped` sums count at most `cap` keys per query, for the layers
// whose core attention is capped. Counts are doubles so that averages and per-rank shares need no
// rounding. Not thread-safe to mutate.
#ifndef DISAGG_PERF_BATCH_H_
#define DISAGG_PERF_BATCH_H_

#include <algorithm>
#include <cmath>

namespace disagg::perf {

// Sum over key counts k = a..b of min(k, cap) (cap <= 0: no cap).
inline double CappedKeySum(double a, double b, double cap) {
  if (b < a) return 0;
  if (cap <= 0 || b <= cap) return (a + b) * (b - a + 1) / 2;
  if (a >= cap) return (b - a + 1) * cap;
  return (a + cap) * (cap - a + 1) / 2 + (b - cap) * cap;
}

struct BatchShape {
  double cap = 0;

  double prefill_seqs = 0;    // sequences with a prompt chunk in this step
  double prefill_tokens = 0;  // sum of chunk lengths
  double prefill_pairs = 0;   // causal query-key pairs of the chunks
  double prefill_pairs_capped = 0;
  double prefill_ctx = 0;  // cached tokens the chunks attend to
  double prefill_ctx_capped = 0;

  double decode_seqs = 0;
  double decode_kv = 0;  // sum of (context + 1): keys read by decode queries
  double decode_kv_capped = 0;
  // Drafted tokens verified beside the decode tokens (speculative decoding):
  // extra query rows that read the same cached keys.
  double decode_extra = 0;

  double logits = 0;  // tokens that go through the LM head

  double tokens() const { return prefill_tokens + decode_seqs + decode_extra; }
  // Queries per decoding sequence (1 without speculation).
  double decode_queries_per_seq() const {
    return decode_seqs > 0 ? 1 + decode_extra / decode_seqs : 1;
  }
  double seqs() const { return prefill_seqs + decode_seqs; }

  // `count` identical sequences, each with a chunk of `new_tokens` after
  // `context` cached ones; `last_chunk`: the chunk ends the prompt, so its
  // last token produces a logit.
  void AddPrefill(double count, double new_tokens, double context, bool last_chunk = true) {
    prefill_seqs += count;
    prefill_tokens += count * new_tokens;
    prefill_pairs += count * CappedKeySum(context + 1, context + new_tokens, 0);
    prefill_pairs_capped += count * CappedKeySum(context + 1, context + new_tokens, cap);
    prefill_ctx += count * context;
    prefill_ctx_capped += count * (cap > 0 ? std::min(context, cap) : context);
    if (last_chunk) logits += count;
  }

  // `count` decoding sequences, each with `context` tokens already cached.
  void AddDecode(double count, double context) {
    decode_seqs += count;
    decode_kv += count * (context + 1);
    decode_kv_capped += count * (cap > 0 ? std::min(context + 1, cap) : context + 1);
    logits += count;
  }

  // Removes what AddDecode(count, context) added (the simulator's incremental
  // bookkeeping).
  void RemoveDecode(double count, double context) { AddDecode(-count, context); }

  // The share of one of `ranks` equal attention-DP ranks, rounding the busiest
  // rank's sequence count up.
  BatchShape RankShare(int ranks) const;

  // Every count and sum multiplied by k (one of k equal micro-batches: 1/k).
  BatchShape Scaled(double k) const {
    BatchShape s = *this;
    for (double* v : {&s.prefill_seqs, &s.prefill_tokens, &s.prefill_pairs, &s.prefill_pairs_capped,
                      &s.prefill_ctx, &s.prefill_ctx_capped, &s.decode_seqs, &s.decode_kv,
                      &s.decode_kv_capped, &s.decode_extra, &s.logits}) {
      *v *= k;
    }
    return s;
  }
};

inline BatchShape BatchShape::RankShare(int ranks) const {
  if (ranks <= 1) return *this;
  auto share = [ranks](double seqs) {
    if (seqs <= 0) return 0.0;
    double busiest = std::ceil(seqs / ranks - 1e-9);
    return busiest / seqs;
  };
  double fp = share(prefill_seqs), fd = share(decode_seqs);
  BatchShape s = *this;
  s.prefill_seqs *= fp;
  s.prefill_tokens *= fp;
  s.prefill_pairs *= fp;
  s.prefill_pairs_capped *= fp;
  s.prefill_ctx *= fp;
  s.prefill_ctx_capped *= fp;
  s.decode_seqs *= fd;
  s.decode_kv *= fd;
  s.decode_kv_capped *= fd;
  s.decode_extra *= fd;
  s.logits = logits * std::max(fp, fd);
  return s;
}

}  // namespace disagg::perf

#endif  // DISAGG_PERF_BATCH_H_
