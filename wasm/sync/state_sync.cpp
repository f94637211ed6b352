// StateSync's writes, storage and delta sync; anti_entropy.cpp holds the
// fingerprint exchange and the repairs.
#include "sync/state_sync.h"

#include <algorithm>

#include "rules/app_rules.h"
#include "sync/sync_limits.h"

namespace pc {

void StateSync::configure(SeededStringHash hash) {
  clock_ = HybridLogicalClock(ctx_.config.replicaId, static_cast<uint64_t>(ctx_.config.maxClockDriftMs));
  map_ = ReplicatedMap(ctx_.config.replicaId, hash);
}

// ---- this node's writes ------------------------------------------------------------

namespace {
// At least the bytes a transaction's Update frame takes: an entry's lengths,
// clock and sequence take at most 14 bytes beyond its key and value (its
// writes share one stamp and consecutive sequence numbers), and the frame's
// header, run header and first entry's absolute clock and sequence take at
// most 64 (PROTOCOL.md, frame limits; js-glue/state-manager.js counts alike).
size_t encodedBound(const std::vector<Operation>& ops) {
  size_t bytes = 64;
  for (const auto& [key, value] : ops) bytes += key.size() + (value ? value->size() : 0) + 14;
  return bytes;
}
}  // namespace

Result StateSync::commit(const std::vector<Operation>& ops, Millis now) {
  for (const auto& [key, value] : ops) {
    std::string why = rules::checkKey(key);
    if (why.empty() && value) why = rules::checkJsonText(*value, "value");
    if (!why.empty()) {
      ++ctx_.counters.rejectedWrites;
      return Result::failure(why);
    }
  }
  if (ops.empty()) return Result::success();
  // Every peer must accept what this node writes (PROTOCOL.md, frame limits).
  if (ops.size() > wire::kMaxWritesPerFrame || encodedBound(ops) > wire::kMaxStateFrameBytes) {
    ++ctx_.counters.rejectedWrites;
    return Result::failure("a transaction holds at most " + std::to_string(wire::kMaxWritesPerFrame) +
                           " keys and " + std::to_string(wire::kMaxStateFrameBytes >> 20) +
                           " MiB of keys and values; split it into several");
  }
  std::vector<KeyChange> changes;
  const bool report = ctx_.config.reportLocalChanges;
  if (report) changes.reserve(ops.size());
  // The transaction's writes serve storage and every peer; none is kept
  // when neither wants them.
  const std::vector<std::string> peers = ctx_.links.connected();
  const bool wanted = ctx_.config.persist || !peers.empty();
  std::vector<Write> writes = map_.commitLocal(ops, clock_.tick(now), report ? &changes : nullptr, wanted);
  if (!changes.empty()) ctx_.outputs.push_back(StateChanged{"", std::move(changes)});
  if (wanted) {
    // Stored records name their writer; peers learn it from this node's
    // Hello, so the frame they get leaves it out (an OwnUpdate).
    wire::Frame frame = wire::Update{std::move(writes)};
    persist(frame);
    if (!peers.empty()) {
      frame = wire::OwnUpdate{std::move(std::get<wire::Update>(frame).writes)};
      for (const std::string& peer : peers) ctx_.links.send(peer, frame);
    }
  }
  return Result::success();
}

Result StateSync::clear(Millis now) {
  // Atomic up to a transaction's limit; a larger state is cleared in several.
  std::vector<Operation> all = map_.deleteAllOperations();
  for (size_t begin = 0; begin < all.size(); begin += wire::kMaxWritesPerFrame / 2) {
    size_t end = std::min(all.size(), begin + wire::kMaxWritesPerFrame / 2);
    std::vector<Operation> part(std::make_move_iterator(all.begin() + begin), std::make_move_iterator(all.begin() + end));
    if (Result r = commit(part, now); !r.ok) return r;
  }
  return Result::success();
}

// ---- storage and updates as bytes --------------------------------------------------

void StateSync::persist(const wire::Frame& frame) {
  if (!ctx_.config.persist) return;
  std::vector<uint8_t> bytes = wire::encode(frame);
  storedBytes_ += bytes.size();
  ctx_.outputs.push_back(PersistRecord{std::move(bytes)});
  // Compact once the records are several times the state they describe, so
  // storage stays proportional to the state and no write rewrites it all.
  if (!compactionRequested_ && storedBytes_ > std::max<size_t>(1 << 20, 2 * snapshotBytes_)) {
    compactionRequested_ = true;
    ctx_.outputs.push_back(CompactStorage{});
  }
}

std::vector<uint8_t> StateSync::snapshotForStorage() {
  std::vector<uint8_t> bytes = wire::encode(wire::SyncResponse{map_.stateVector(), map_.writesMissingFrom({})});
  snapshotBytes_ = bytes.size();
  storedBytes_ = 0;
  compactionRequested_ = false;
  return bytes;
}

std::vector<uint8_t> StateSync::encodeStateVector() const { return wire::encode(wire::SyncRequest{map_.stateVector()}); }

Result StateSync::encodeStateAsUpdate(const uint8_t* vector, size_t size, std::vector<uint8_t>* update) const {
  StateVector since;
  if (size > 0) {
    wire::Decoded d = wire::decode(vector, size, wire::Limits::local());
    auto* request = d.frame ? std::get_if<wire::SyncRequest>(&*d.frame) : nullptr;
    if (!request)
      return Result::failure(std::string("not a state vector: ") + (d.frame ? "wrong frame type" : wire::describe(d.error)));
    since = std::move(request->seen);
  }
  *update = wire::encode(wire::SyncResponse{map_.stateVector(), map_.writesMissingFrom(since)});
  return Result::success();
}

Result StateSync::applyUpdate(const uint8_t* data, size_t size, bool fromStorage, Millis now) {
  // Bytes from this node's own store or app: not bound by a peer frame's limits.
  wire::Decoded d = wire::decode(data, size, wire::Limits::local());
  if (!d.frame) return Result::failure(std::string("not an update: ") + wire::describe(d.error));
  std::vector<Write>* writes = nullptr;
  StateVector* seen = nullptr;
  if (auto* sync = std::get_if<wire::SyncResponse>(&*d.frame)) {
    seen = &sync->seen;
    writes = &sync->writes;
  } else if (auto* update = std::get_if<wire::Update>(&*d.frame)) {
    writes = &update->writes;
  } else {
    return Result::failure("not an update: wrong frame type");
  }
  // What this node stored it accepted once; an update from elsewhere obeys
  // the same clock rule as a peer's writes: an Update is one transaction,
  // refused whole, and a sync response loses only the writes too far ahead.
  if (!fromStorage) {
    auto tooFar = [&](const Write& w) { return !clock_.acceptable(w.stamp, now); };
    const size_t future = static_cast<size_t>(std::count_if(writes->begin(), writes->end(), tooFar));
    ctx_.counters.futureWrites += future;
    if (future > 0 && !seen) return Result::success();
    writes->erase(std::remove_if(writes->begin(), writes->end(), tooFar), writes->end());
  }
  for (const Write& w : *writes) clock_.observe(w.stamp, now);
  ReplicatedMap::ApplyResult r = map_.applyRemote(*writes);
  if (seen) map_.mergeStateVector(*seen);
  if (!r.changes.empty()) ctx_.outputs.push_back(StateChanged{fromStorage ? "(storage)" : "(update)", std::move(r.changes)});
  if (!fromStorage && !r.won.empty()) {
    if (ctx_.config.persist) persist(wire::SyncResponse{map_.stateVector(), r.won});
    for (const std::string& peer : ctx_.links.connected()) sendWrites(peer, std::vector<Write>(r.won), nullptr);
  }
  return Result::success();
}

// ---- peers -------------------------------------------------------------------------

StateSync::SyncPeer* StateSync::find(const std::string& peer) {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second;
}

void StateSync::peerConnected(const std::string& peer, Millis now) {
  SyncPeer& sp = peers_[peer] = SyncPeer{};
  sp.reconcileBudget = kReconcileBurst;
  sp.reconcileBudgetAt = now;
  requestSync(peer, sp);
}

void StateSync::peerGone(const std::string& peer) {
  peers_.erase(peer);
  ctx_.timers.clear(Timer::SyncAnswer, peer);
}

void StateSync::stop() { ctx_.timers.clear(Timer::Fingerprint); }

void StateSync::requestSync(const std::string& peer, SyncPeer& sp) {
  sp.syncOutstanding = true;
  ctx_.links.send(peer, wire::SyncRequest{map_.stateVector()});
}

// Writes go in frames of a bounded size, so neither side ever builds or
// decodes one giant frame; the last carries the vector when it ends a sync.
void StateSync::sendWrites(const std::string& peer, std::vector<Write>&& writes, const StateVector* finalVector) {
  auto weight = [](const Write& w) { return w.key.size() + (w.value ? w.value->size() : 0) + 16; };
  size_t begin = 0;
  do {
    size_t end = begin, bytes = 0;
    while (end < writes.size() && end - begin < kChunkWrites && (end == begin || bytes + weight(writes[end]) <= kChunkBytes))
      bytes += weight(writes[end++]);
    std::vector<Write> part(std::make_move_iterator(writes.begin() + begin), std::make_move_iterator(writes.begin() + end));
    if (finalVector && end == writes.size()) ctx_.links.send(peer, wire::SyncResponse{*finalVector, std::move(part)});
    else if (!part.empty()) ctx_.links.send(peer, wire::SyncWrites{std::move(part)});
    begin = end;
  } while (begin < writes.size());
}

// A request is answered at once unless this peer was answered less than a
// second ago or has not acknowledged the last answer: then only its latest
// request waits. So one request can never be multiplied into a stream of
// full states, and a peer that stops reading gets no more than one.
void StateSync::onFrame(const std::string& peer, wire::SyncRequest&& f, Millis now) {
  SyncPeer* sp = find(peer);
  if (!sp) return;
  sp->deferredRequest = std::move(f.seen);
  answerDeferred(peer, *sp, now);
}

void StateSync::onSyncAnswerDeadline(const std::string& peer, Millis now) {
  if (SyncPeer* sp = find(peer)) answerDeferred(peer, *sp, now);
}

void StateSync::answerDeferred(const std::string& peer, SyncPeer& sp, Millis now) {
  if (sp.syncAnswering && now >= sp.syncAnsweredAt + kSyncAckTimeoutMs) sp.syncAnswering = false;
  if (sp.deferredRequest && !sp.syncAnswering && now >= sp.syncAnsweredAt + kSyncAnswerIntervalMs) {
    StateVector seen = std::move(*sp.deferredRequest);
    sp.deferredRequest.reset();
    sp.syncAnswering = true;
    sp.syncAnsweredAt = now;
    StateVector vector = map_.stateVector();
    sendWrites(peer, map_.writesMissingFrom(seen), &vector);
  }
  // The deferred request's deadline: the acknowledgement's timeout, or the interval.
  std::optional<Millis> due;
  if (sp.deferredRequest)
    due = sp.syncAnswering ? sp.syncAnsweredAt + kSyncAckTimeoutMs : sp.syncAnsweredAt + kSyncAnswerIntervalMs;
  ctx_.timers.setOrClear(Timer::SyncAnswer, peer, due);
}

void StateSync::onFrame(const std::string& peer, wire::SyncWrites&& f, Millis now) {
  SyncPeer* sp = find(peer);
  if (!sp) return;
  applyRemoteWrites(peer, *sp, f.writes, sp->syncOutstanding ? WritesFrom::Sync : WritesFrom::Repair, now);
}

void StateSync::onFrame(const std::string& peer, wire::SyncResponse&& f, Millis now) {
  SyncPeer* sp = find(peer);
  if (!sp) return;
  applyRemoteWrites(peer, *sp, f.writes, WritesFrom::Sync, now);
  sp->syncOutstanding = false;
  map_.mergeStateVector(f.seen);
  // The acknowledgement the peer waits for before it answers us again, and
  // our fingerprint, which it compares with its own.
  sendStateAck(peer, *sp, now);
}

void StateSync::onFrame(const std::string& peer, wire::Update&& f, Millis now) {
  if (SyncPeer* sp = find(peer)) applyRemoteWrites(peer, *sp, f.writes, WritesFrom::Update, now);
}

void StateSync::applyRemoteWrites(const std::string& peer, SyncPeer& sp, std::vector<Write>& writes, WritesFrom from,
                                  Millis now) {
  // A stamp further ahead of our clock than the drift we allow is refused
  // until our clock catches up (anti-entropy brings it again then). An Update
  // is one transaction, so it is refused whole rather than applied in part.
  auto tooFar = [&](const Write& w) { return !clock_.acceptable(w.stamp, now); };
  if (size_t future = static_cast<size_t>(std::count_if(writes.begin(), writes.end(), tooFar)); future > 0) {
    ctx_.counters.futureWrites += future;
    ctx_.links.reject(peer, "a write stamped more than maxClockDriftMs ahead of this node's clock (is the peer's clock wrong?)");
    if (from == WritesFrom::Update) return;
    writes.erase(std::remove_if(writes.begin(), writes.end(), tooFar), writes.end());
  }
  for (const Write& w : writes) clock_.observe(w.stamp, now);
  ReplicatedMap::ApplyResult r = map_.applyRemote(writes);
  if (!r.won.empty()) {
    if (from == WritesFrom::Repair) ctx_.counters.repairedWrites += r.won.size();
    if (from == WritesFrom::Update) persist(wire::Update{std::move(r.won)});
    else if (ctx_.config.persist) persist(wire::SyncResponse{map_.stateVector(), std::move(r.won)});
  }
  if (!r.changes.empty()) ctx_.outputs.push_back(StateChanged{peer, std::move(r.changes)});
  if (r.gap && from == WritesFrom::Update && !sp.syncOutstanding) requestSync(peer, sp);
}

}  // namespace pc
