//! What to upload: the files named on the command line, and the trees of the folders named
//! there, walked without following symbolic links.

use std::path::{Path, PathBuf};

/// A local file to upload.
#[derive(Debug, Clone)]
pub struct LocalFile {
    /// Its absolute path.
    pub path: PathBuf,
    /// Its name in Box.
    pub name: String,
    /// The folder it goes to, as names from the destination folder down (empty: the
    /// destination folder itself).
    pub folder: Vec<String>,
    pub size: u64,
}

/// An entry left out, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
    /// It is a file (or folder) that could not be read: a failure, not a choice.
    pub unreadable: bool,
}

/// Everything a run uploads: folders (each as its names from the destination down,
/// parents before children), files, and what was left out.
#[derive(Debug, Default)]
pub struct Plan {
    pub folders: Vec<Vec<String>>,
    pub files: Vec<LocalFile>,
    pub skipped: Vec<Skipped>,
}

impl Plan {
    /// Adds `path`: a file (named `name` in Box, when given) or a folder tree (its top
    /// folder named `name`, when given). An argument that cannot be read at all is an
    /// error; entries inside a tree that cannot be read are skipped, and said.
    pub fn add(&mut self, path: &Path, name: Option<&str>) -> Result<(), String> {
        let path = std::path::absolute(path)
            .map_err(|e| format!("{}: cannot resolve the path: {e}", path.display()))?;
        let meta = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let own_name = match name {
            Some(name) => name.to_string(),
            None => path
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string)
                .ok_or_else(|| {
                    format!(
                        "{}: the name is empty or not UTF-8; give --name",
                        path.display()
                    )
                })?,
        };
        if meta.is_dir() {
            self.add_tree(&path, own_name);
            return Ok(());
        }
        if !meta.is_file() {
            return Err(format!("{}: not a file or a folder", path.display()));
        }
        std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        self.files.push(LocalFile {
            path,
            name: own_name,
            folder: Vec::new(),
            size: meta.len(),
        });
        Ok(())
    }

    fn add_tree(&mut self, root: &Path, root_name: String) {
        self.folders.push(vec![root_name.clone()]);
        // Sorted by name so that runs, their output and their order of requests repeat.
        let walk = walkdir::WalkDir::new(root)
            .follow_links(false)
            .min_depth(1)
            .sort_by_file_name();
        for entry in walk {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let path = e.path().unwrap_or(root).to_path_buf();
                    let reason = match e.io_error() {
                        Some(io) => format!("cannot be read: {io}"),
                        None => format!("cannot be read: {e}"),
                    };
                    self.skipped.push(Skipped {
                        path,
                        reason,
                        unreadable: true,
                    });
                    continue;
                }
            };
            let path = entry.path().to_path_buf();
            let Some(names) = names_below(root, &path, &root_name) else {
                self.skipped.push(Skipped {
                    path,
                    reason: "its name is not UTF-8".into(),
                    unreadable: true,
                });
                continue;
            };
            let kind = entry.file_type();
            if kind.is_symlink() {
                self.skipped.push(Skipped {
                    path,
                    reason: "a symbolic link, not followed".into(),
                    unreadable: false,
                });
            } else if kind.is_dir() {
                self.folders.push(names);
            } else if kind.is_file() {
                self.add_tree_file(path, names);
            } else {
                self.skipped.push(Skipped {
                    path,
                    reason: "not a regular file".into(),
                    unreadable: false,
                });
            }
        }
    }

    fn add_tree_file(&mut self, path: PathBuf, mut names: Vec<String>) {
        // Opened now, so that a file that cannot be read is said before anything is sent.
        let checked = std::fs::File::open(&path).and_then(|file| file.metadata());
        match checked {
            Ok(meta) => {
                let name = names.pop().unwrap_or_default();
                self.files.push(LocalFile {
                    path,
                    name,
                    folder: names,
                    size: meta.len(),
                });
            }
            Err(e) => self.skipped.push(Skipped {
                path,
                reason: format!("cannot be read: {e}"),
                unreadable: true,
            }),
        }
    }

    /// The total size of the files, in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// The names of `path` below `root`, `root_name` first; `None` when one is not UTF-8.
fn names_below(root: &Path, path: &Path, root_name: &str) -> Option<Vec<String>> {
    let below = path.strip_prefix(root).ok()?;
    let mut names = vec![root_name.to_string()];
    for part in below.components() {
        names.push(part.as_os_str().to_str()?.to_string());
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_gives_its_folders_parents_first_and_skips_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("top");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::write(root.join("a/b/c.txt"), b"c").unwrap();
        std::fs::write(root.join("z.txt"), b"zz").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("z.txt"), root.join("link")).unwrap();
        let mut plan = Plan::default();
        plan.add(&root, None).unwrap();
        let folders: Vec<String> = plan.folders.iter().map(|f| f.join("/")).collect();
        assert_eq!(folders, ["top", "top/a", "top/a/b", "top/empty"]);
        let files: Vec<(String, &str, u64)> = plan
            .files
            .iter()
            .map(|f| (f.folder.join("/"), f.name.as_str(), f.size))
            .collect();
        assert_eq!(
            files,
            [("top/a/b".into(), "c.txt", 1), ("top".into(), "z.txt", 2)]
        );
        #[cfg(unix)]
        {
            assert_eq!(plan.skipped.len(), 1);
            assert!(plan.skipped[0].path.ends_with("link"));
            assert_eq!(plan.skipped[0].reason, "a symbolic link, not followed");
        }
        assert_eq!(plan.total_bytes(), 3);
    }

    #[test]
    fn a_missing_argument_is_an_error_naming_it() {
        let mut plan = Plan::default();
        let error = plan.add(Path::new("/no/such/file"), None).unwrap_err();
        assert!(error.starts_with("/no/such/file: "), "{error}");
    }
}
