#include "cluster/view.h"

#include <algorithm>

#include "cluster/ring.h"

namespace roster {

using json = nlohmann::json;

std::string_view to_string(member_state s) {
  switch (s) {
    case member_state::up: return "up";
    case member_state::down: return "down";
    case member_state::leaving: return "leaving";
  }
  return "up";
}

namespace {

std::optional<member_state> state_from(std::string_view s) {
  if (s == "up") return member_state::up;
  if (s == "down") return member_state::down;
  if (s == "leaving") return member_state::leaving;
  return std::nullopt;
}

/// New targets over every member that stays (up or down, not leaving).
void retarget(cluster_view& v) {
  std::vector<std::string> staying;
  for (auto& m : v.members)
    if (m.state != member_state::leaving) staying.push_back(m.name);
  if (staying.empty()) return;
  partition_table prev{v.epoch, v.targets};
  v.targets = rebalance(prev, staying, v.partitions).owners;
}

void drop_departed(cluster_view& v) {
  std::erase_if(v.members, [&](const member_info& m) {
    return m.state == member_state::leaving && v.owned_by(m.name) == 0;
  });
}

} // namespace

const member_info* cluster_view::find(const std::string& name) const {
  for (auto& m : members)
    if (m.name == name) return &m;
  return nullptr;
}

member_info* cluster_view::find(const std::string& name) {
  for (auto& m : members)
    if (m.name == name) return &m;
  return nullptr;
}

std::string cluster_view::coordinator(const std::function<bool(const std::string&)>& reachable) const {
  const member_info* best = nullptr;
  for (auto& m : members)
    if (m.state != member_state::down && (!reachable || reachable(m.name)) && (!best || m.seq < best->seq)) best = &m;
  return best ? best->name : std::string();
}

std::vector<partition_move> cluster_view::moves() const {
  std::vector<partition_move> out;
  for (uint32_t p = 0; p < owners.size() && p < targets.size(); ++p)
    if (owners[p] != targets[p]) out.push_back({p, owners[p], targets[p]});
  return out;
}

uint32_t cluster_view::owned_by(const std::string& name) const {
  return static_cast<uint32_t>(std::count(owners.begin(), owners.end(), name));
}

bool cluster_view::well_formed() const { return owners.size() == partitions && targets.size() == partitions; }

json cluster_view::to_json() const {
  json ms = json::array();
  for (auto& m : members)
    ms.push_back({{"name", m.name}, {"http", m.http}, {"cluster", m.cluster},
                  {"state", to_string(m.state)}, {"seq", m.seq}});
  return {{"epoch", epoch}, {"partitions", partitions}, {"next_seq", next_seq},
          {"members", ms},  {"owners", owners},         {"targets", targets}};
}

std::optional<cluster_view> cluster_view::from_json(const json& j) {
  try {
    cluster_view v;
    v.epoch = j.at("epoch").get<uint64_t>();
    v.partitions = j.at("partitions").get<uint32_t>();
    v.next_seq = j.at("next_seq").get<uint64_t>();
    for (auto& m : j.at("members")) {
      auto s = state_from(m.at("state").get<std::string>());
      if (!s) return std::nullopt;
      v.members.push_back({m.at("name"), m.at("http"), m.at("cluster"), *s, m.at("seq").get<uint64_t>()});
    }
    v.owners = j.at("owners").get<std::vector<std::string>>();
    v.targets = j.at("targets").get<std::vector<std::string>>();
    if (!v.well_formed()) return std::nullopt;
    return v;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

bool majority_reachable(const cluster_view& v, const std::function<bool(const std::string&)>& reachable) {
  size_t n = 0;
  for (auto& m : v.members) n += reachable(m.name) ? 1 : 0;
  return n * 2 > v.members.size();
}

cluster_view founding_view(const member_info& self, uint32_t partitions) {
  cluster_view v;
  v.epoch = 1;
  v.partitions = partitions;
  member_info m = self;
  m.state = member_state::up;
  m.seq = v.next_seq++;
  v.members.push_back(m);
  v.owners.assign(partitions, m.name);
  v.targets = v.owners;
  return v;
}

cluster_view admit(cluster_view v, member_info m) {
  ++v.epoch;
  if (auto* known = v.find(m.name)) {
    known->http = m.http;
    known->cluster = m.cluster;
    if (known->state == member_state::down) known->state = member_state::up;
    return v;
  }
  m.state = member_state::up;
  m.seq = v.next_seq++;
  v.members.push_back(m);
  retarget(v);
  return v;
}

cluster_view mark(cluster_view v, const std::string& name, member_state s) {
  auto* m = v.find(name);
  // A leaving member stays "leaving" (its partitions are targeted elsewhere)
  // whether or not it is reachable.
  if (!m || m->state == s || m->state == member_state::leaving) return v;
  ++v.epoch;
  m->state = s;
  return v;
}

cluster_view begin_leave(cluster_view v, const std::string& name) {
  auto* m = v.find(name);
  if (!m || m->state == member_state::leaving) return v;
  ++v.epoch;
  m->state = member_state::leaving;
  retarget(v);
  drop_departed(v);
  return v;
}

cluster_view complete_move(cluster_view v, uint32_t p) {
  if (p >= v.owners.size() || v.owners[p] == v.targets[p]) return v;
  ++v.epoch;
  v.owners[p] = v.targets[p];
  drop_departed(v);
  return v;
}

} // namespace roster
