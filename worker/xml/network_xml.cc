// libvirt network XML for one isolated sandbox segment, built and parsed with pugixml.
// Pure functions; thread-safe.
#include "worker/xml/network_xml.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "pugixml.hpp"
#include "worker/xml/metadata_xml.h"
#include "worker/xml/xml_util.h"

namespace labrack::worker {
namespace {

using xml_internal::AppendText;
using xml_internal::AppendWithAttr;
using xml_internal::SetAttr;

void AppendBandwidth(pugi::xml_node network, uint64_t average_kibps) {
  pugi::xml_node bandwidth = network.append_child("bandwidth");
  AppendWithAttr(bandwidth, "inbound", "average", absl::StrCat(average_kibps));
  AppendWithAttr(bandwidth, "outbound", "average", absl::StrCat(average_kibps));
}

}  // namespace

std::string BuildNetworkXml(const NetworkSpec& spec) {
  pugi::xml_document doc;
  pugi::xml_node network = doc.append_child("network");
  AppendText(network, "name", spec.name);
  AppendTag(network.append_child("metadata"), spec.tag);
  pugi::xml_node bridge = AppendWithAttr(network, "bridge", "name", spec.bridge);
  SetAttr(bridge, "stp", "off");
  SetAttr(bridge, "delay", "0");
  if (spec.bandwidth_average_kibps > 0) AppendBandwidth(network, spec.bandwidth_average_kibps);
  return xml_internal::Serialize(doc);
}

absl::StatusOr<NetworkInfo> ParseNetworkXml(absl::string_view xml) {
  pugi::xml_document doc;
  RETURN_IF_ERROR(xml_internal::Load(xml, "network", "network XML", doc));
  pugi::xml_node network = doc.document_element();
  NetworkInfo info;
  info.name = network.child_value("name");
  info.bridge = network.child("bridge").attribute("name").value();
  absl::StatusOr<ObjectTag> tag = FindTag(network);
  if (tag.ok()) {
    info.tag = *std::move(tag);
  } else if (!absl::IsNotFound(tag.status())) {
    return tag.status();
  }
  return info;
}

}  // namespace labrack::worker
