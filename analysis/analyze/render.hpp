// meoktong analyze, output side: the Analysis as JSON (schema
// "meoktong.analysis/v1", keys documented in docs/analyze.md), as Markdown for
// a newsroom, and as one self-contained HTML page (inline CSS and SVG, no
// network fetches). Everything taken from reports is escaped.
#pragma once

#include <string>

#include "analysis/analyze/incident.hpp"

namespace meoktong::analyze {

inline constexpr const char* kAnalysisSchema = "meoktong.analysis/v1";

std::string render_json(const Analysis& a);
std::string render_markdown(const Analysis& a);
std::string render_html(const Analysis& a);

// Text escaped for HTML and XML content and attribute values (& < > " ').
std::string html_escape(const std::string& s);

}  // namespace meoktong::analyze
