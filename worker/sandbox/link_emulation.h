// Which shaped links of a topology get a hidden link-emulator guest: on a host whose kernel
// has no netem, every shaped link is split into two isolated halves joined by a tiny guest
// (image linkemu) that bridges them and applies netem inside, bandwidth included (netem's
// rate): such kernels also lack what libvirt's <bandwidth> needs (sfq, the police action).
// Pure functions of the topology, so that planning, status and capacity agree; thread-safe.
#ifndef LABRACK_WORKER_SANDBOX_LINK_EMULATION_H_
#define LABRACK_WORKER_SANDBOX_LINK_EMULATION_H_

#include <string>
#include <vector>

#include "labrack/v1/types.pb.h"

namespace labrack::worker {

// One shaped network replaced by two halves and an emulator between them.
struct EmulatedLink {
  std::string network;  // the topology's network, e.g. "wan"
  int network_index = 0;
  // Its halves, "wan.a" (the first NIC on the link, in node order) and "wan.b" (the
  // second). The '.' keeps them apart from any network a topology can name.
  std::string half_a;
  std::string half_b;
  // The hidden node "wan.emu": image linkemu, one NIC on each half, no address. Its name
  // is not a valid node name either, so a candidate can neither name nor attach to it.
  v1::Node emulator;
  // Its kernel argument labrack.netem, e.g. "delay=40ms,loss=0.5%,rate=10000kbit".
  std::string netem;
};

// The links of `topology` that need an emulator: none when the host has netem, else each
// shaped network that asks for anything.
std::vector<EmulatedLink> EmulatedLinks(const v1::Topology& topology, bool host_has_netem);

// netem's arguments for the host side of a link in tc syntax
// ("delay 40ms loss 0.5% rate 10000kbit"); empty for an empty shape.
std::string NetemTcArgs(const v1::LinkShape& shape);
// The emulator's kernel argument: "delay=40ms,loss=0.5%,rate=10000kbit".
std::string NetemKernelArg(const v1::LinkShape& shape);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_SANDBOX_LINK_EMULATION_H_
