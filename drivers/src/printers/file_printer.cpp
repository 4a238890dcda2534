// A folder as a printer (the demo and tests): each copy of a job becomes
// <directory>/<job_id>-<n>.<zpl|pdf>. Files appear whole or not at all (written under a
// hidden temporary name, synced, renamed), and sending a job again rewrites the same names,
// so a retry never leaves duplicates. Disk I/O (fsync) runs on the worker pool.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "printers.hpp"

namespace fulfil::drivers::printers {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

// The job id as a file name: nothing that could leave the folder or hide the file.
std::string safe_name(const std::string& job_id) {
  std::string out;
  for (char c : job_id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    out += ok ? c : '_';
  }
  if (out.empty() || out.front() == '.') out.insert(out.begin(), '_');
  return out;
}

bool write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Writes `path` atomically; an error text, or "" when it is on disk.
std::string write_atomically(const std::string& dir, const std::string& name,
                             const std::string& bytes) {
  const std::string path = dir + "/" + name;
  // Unique per write: two workers may write the same job at once (a retry racing the first).
  static std::atomic<unsigned> serial{0};
  const std::string temp =
      dir + "/." + name + ".tmp" + std::to_string(::getpid()) + "-" + std::to_string(++serial);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return "cannot create " + temp + ": " + errno_text();
  const bool ok = write_all(fd, bytes) && ::fsync(fd) == 0;
  const std::string why = ok ? "" : "cannot write " + temp + ": " + errno_text();
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string error = ok ? "cannot rename to " + path + ": " + errno_text() : why;
    ::unlink(temp.c_str());
    return error;
  }
  // The rename itself is durable only once the directory is synced.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return "";
}

SubmitResult write_job(const PrinterConfig& c, const PrintRequest& r) {
  const std::string ext = r.format == PrinterLanguage::pdf ? ".pdf" : ".zpl";
  SubmitResult result;
  for (int n = 1; n <= std::max(1, r.copies); ++n) {
    const std::string name = safe_name(r.job_id) + "-" + std::to_string(n) + ext;
    if (auto error = write_atomically(c.directory, name, r.document); !error.empty()) {
      // A missing or read-only folder may be fixed (a mount comes back): retryable.
      result.error = std::move(error);
      return result;
    }
  }
  result.ok = true;
  return result;
}

PrinterStatus folder_status(const PrinterConfig& c) {
  PrinterStatus s;
  s.id = c.id;
  s.kind = PrinterKind::file;
  struct stat st {};
  if (::stat(c.directory.c_str(), &st) != 0) {
    s.state = PrinterState::stopped;
    s.detail = c.directory + ": " + errno_text();
  } else if (!S_ISDIR(st.st_mode)) {
    s.state = PrinterState::stopped;
    s.detail = c.directory + " is not a directory";
  } else if (::access(c.directory.c_str(), W_OK | X_OK) != 0) {
    s.state = PrinterState::stopped;
    s.detail = c.directory + " is not writable: " + errno_text();
  } else {
    s.state = PrinterState::idle;
    s.detail = c.directory;
  }
  return s;
}

class FilePrinter final : public Printer {
 public:
  FilePrinter(boost::asio::io_context& io, boost::asio::thread_pool& workers,
              const PrinterConfig& c)
      : Printer(c, io), workers_(workers) {}

  void submit(PrintRequest request, std::function<void(SubmitResult)> done) override {
    run_blocking(
        *io_, workers_, [c = config_, r = std::move(request)] { return write_job(c, r); },
        std::move(done));
  }

  void query_status(std::function<void(PrinterStatus)> done) override {
    run_blocking(
        *io_, workers_, [c = config_] { return folder_status(c); }, std::move(done));
  }

 private:
  boost::asio::thread_pool& workers_;
};

}  // namespace

std::unique_ptr<Printer> make_file_printer(boost::asio::io_context& io,
                                           boost::asio::thread_pool& workers,
                                           const PrinterConfig& config) {
  return std::make_unique<FilePrinter>(io, workers, config);
}

}  // namespace fulfil::drivers::printers
