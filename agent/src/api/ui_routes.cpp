// The associates' web UI: four static files compiled into the binary (no runtime download,
// nothing to deploy beside fulfild).
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "api_support.hpp"

namespace fulfil::embedded {
std::string_view ui_index_html();
std::string_view ui_app_js();
std::string_view ui_manager_js();
std::string_view ui_app_css();
}  // namespace fulfil::embedded

namespace fulfil::agent::api {

void add_ui_routes(Routes& r) {
  // For UI development: FULFIL_UI_DIR serves the files from that folder, re-read on each
  // request, instead of the copies compiled in.
  const char* dev_dir = std::getenv("FULFIL_UI_DIR");
  auto serve = [&r, dev_dir](const char* path, std::string_view (*content)(), const char* type) {
    const std::string file = std::string(path) == "/" ? "index.html" : std::string(path).substr(4);
    r.server.route("GET", path, [content, type, dev_dir, file](const ApiRequest&) {
      ApiResponse resp;
      resp.content_type = type;
      resp.body = std::string(content());
      if (dev_dir) {
        std::ifstream in(std::string(dev_dir) + "/" + file);
        std::ostringstream text;
        text << in.rdbuf();
        resp.body = text.str();
      }
      // The page is served by the same origin as the API it calls; nothing else may frame
      // or script it.
      resp.headers = {{"Content-Security-Policy",
                       "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
                       "frame-ancestors 'none'"},
                      {"X-Content-Type-Options", "nosniff"},
                      {"Referrer-Policy", "no-referrer"}};
      return resp;
    });
  };
  serve("/", &embedded::ui_index_html, "text/html; charset=utf-8");
  serve("/ui/app.js", &embedded::ui_app_js, "text/javascript; charset=utf-8");
  serve("/ui/manager.js", &embedded::ui_manager_js, "text/javascript; charset=utf-8");
  serve("/ui/app.css", &embedded::ui_app_css, "text/css; charset=utf-8");
}

}  // namespace fulfil::agent::api
