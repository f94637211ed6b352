#include "kernel/timer_table.h"

namespace pc {

void TimerTable::set(Timer timer, const std::string& peer, Millis at) {
  Key key{timer, peer};
  auto it = byKey_.find(key);
  if (it != byKey_.end()) {
    byTime_.erase({it->second, timer, peer});
    it->second = at;
  } else {
    byKey_.emplace(key, at);
  }
  byTime_.emplace(at, timer, peer);
}

void TimerTable::clear(Timer timer, const std::string& peer) {
  auto it = byKey_.find({timer, peer});
  if (it == byKey_.end()) return;
  byTime_.erase({it->second, timer, peer});
  byKey_.erase(it);
}

void TimerTable::clearPeer(const std::string& peer) {
  for (auto it = byKey_.begin(); it != byKey_.end();) {
    if (it->first.second == peer) {
      byTime_.erase({it->second, it->first.first, peer});
      it = byKey_.erase(it);
    } else {
      ++it;
    }
  }
}

void TimerTable::setOrClear(Timer timer, const std::string& name, std::optional<Millis> at) {
  if (at) set(timer, name, *at);
  else clear(timer, name);
}

void TimerTable::clearAllBut(Timer keep) {
  for (auto it = byKey_.begin(); it != byKey_.end();) {
    if (it->first.first != keep) {
      byTime_.erase({it->second, it->first.first, it->first.second});
      it = byKey_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<Millis> TimerTable::at(Timer timer, const std::string& peer) const {
  auto it = byKey_.find({timer, peer});
  if (it == byKey_.end()) return std::nullopt;
  return it->second;
}

std::optional<Millis> TimerTable::next() const {
  if (byTime_.empty()) return std::nullopt;
  return std::get<0>(*byTime_.begin());
}

std::vector<TimerTable::Due> TimerTable::takeDue(Millis now) {
  std::vector<Due> due;
  while (!byTime_.empty() && std::get<0>(*byTime_.begin()) <= now) {
    auto [at, timer, peer] = *byTime_.begin();
    byTime_.erase(byTime_.begin());
    byKey_.erase({timer, peer});
    due.push_back({timer, std::move(peer)});
  }
  return due;
}

}  // namespace pc
