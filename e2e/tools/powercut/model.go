package main

// The model: the tree as seen through the mount, what of it the backing folder holds, and the
// fsyncs and the cut that move between the two. The FUSE requests (requests.go) call in here
// with the tree's mutex held.

import (
	"io"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

const (
	pageSize = 4096
	staging  = ".powercut"
	// The kernel may cache entries and attributes this long; every change goes through this
	// process, so the cache is never wrong while mounted.
	cacheFor = time.Second
)

// node is one inode as seen through the mount.
type node struct {
	ino      uint64
	dir      bool
	mode     uint32 // permission bits
	uid, gid uint32
	mtime    time.Time

	// Directories.
	kids    map[string]*node // entries seen through the mount; nil until read from the backing folder
	durable map[string]*node // entries the backing directory holds
	up      *node            // parent seen through the mount
	linkDir *node            // where the backing directory is linked; nil: in staging (or the root)
	linkAs  string
	coupled map[*node]bool // directories a cross-directory rename ties to this one until fsynced

	// Files.
	links int
	size  int64
	valid int64            // bytes of the backing inode below this still hold the file's data
	pages map[int64][]byte // data not fsynced yet
}

type powercut struct {
	fuse.RawFileSystem
	mu      sync.Mutex
	backing string
	ordered bool
	dead    bool
	nodes   map[uint64]*node
	byInode map[uint64]*node // files read from the backing folder, by backing inode (hard links)
	dirty   map[*node]bool   // directories whose entries may differ from the backing folder's
	next    uint64
}

func newPowercut(backing string, ordered bool) (*powercut, error) {
	if err := os.RemoveAll(filepath.Join(backing, staging)); err != nil {
		return nil, err
	}
	if err := os.Mkdir(filepath.Join(backing, staging), 0o700); err != nil {
		return nil, err
	}
	fs := &powercut{RawFileSystem: fuse.NewDefaultRawFileSystem(), backing: backing, ordered: ordered,
		nodes: map[uint64]*node{}, byInode: map[uint64]*node{}, dirty: map[*node]bool{}, next: fuse.FUSE_ROOT_ID}
	root := fs.newNode(true, 0o755, 0, 0)
	root.up = root
	return fs, nil
}

func (fs *powercut) newNode(dir bool, mode, uid, gid uint32) *node {
	n := &node{ino: fs.next, dir: dir, mode: mode & 0o7777, uid: uid, gid: gid, mtime: time.Now()}
	fs.next++
	fs.nodes[n.ino] = n
	return n
}

func (fs *powercut) staged(n *node) string {
	return filepath.Join(fs.backing, staging, strconv.FormatUint(n.ino, 10))
}

// backingDir is where directory d's entries are in the backing folder.
func (fs *powercut) backingDir(d *node) string {
	switch {
	case d.ino == fuse.FUSE_ROOT_ID:
		return fs.backing
	case d.linkDir == nil:
		return fs.staged(d)
	default:
		return filepath.Join(fs.backingDir(d.linkDir), d.linkAs)
	}
}

// load reads directory d from the backing folder the first time it is needed; from then on its
// entries live here.
func (fs *powercut) load(d *node) error {
	if d.kids != nil {
		return nil
	}
	dir := fs.backingDir(d)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	kids := map[string]*node{}
	for _, e := range entries {
		if d.ino == fuse.FUSE_ROOT_ID && e.Name() == staging {
			continue
		}
		path := filepath.Join(dir, e.Name())
		var st syscall.Stat_t
		if err := syscall.Lstat(path, &st); err != nil {
			return err
		}
		var k *node
		switch st.Mode & syscall.S_IFMT {
		case syscall.S_IFDIR:
			k = fs.newNode(true, st.Mode, st.Uid, st.Gid)
			k.up, k.linkDir, k.linkAs = d, d, e.Name()
		case syscall.S_IFREG:
			if k = fs.byInode[st.Ino]; k == nil {
				k = fs.newNode(false, st.Mode, st.Uid, st.Gid)
				k.size, k.valid = st.Size, st.Size
				if err := os.Link(path, fs.staged(k)); err != nil {
					return err
				}
				fs.byInode[st.Ino] = k
			}
			k.links++
		default:
			continue
		}
		k.mtime = time.Unix(st.Mtim.Unix())
		kids[e.Name()] = k
	}
	d.kids = kids
	d.durable = make(map[string]*node, len(kids))
	for name, k := range kids {
		d.durable[name] = k
	}
	return nil
}

// reconcile makes the backing directory of d hold exactly d's entries: d's fsync.
func (fs *powercut) reconcile(d *node) error {
	if err := fs.load(d); err != nil {
		return err
	}
	dir := fs.backingDir(d)
	for name, old := range d.durable {
		if d.kids[name] == old {
			continue
		}
		var err error
		if old.dir {
			// Kept, with what is durable in it, for a rename whose other side is not synced yet.
			err = os.Rename(filepath.Join(dir, name), fs.staged(old))
			old.linkDir = nil
		} else {
			err = os.Remove(filepath.Join(dir, name))
		}
		if err != nil {
			return err
		}
		delete(d.durable, name)
	}
	for name, k := range d.kids {
		if d.durable[name] == k {
			continue
		}
		target := filepath.Join(dir, name)
		if k.dir {
			// A directory has one name: linking it here takes it from where it was, as its rename did.
			if err := os.Rename(fs.backingDir(k), target); err != nil {
				return err
			}
			if k.linkDir != nil {
				delete(k.linkDir.durable, k.linkAs)
			}
			k.linkDir, k.linkAs = d, name
		} else if err := os.Link(fs.staged(k), target); err != nil {
			return err
		}
		d.durable[name] = k
	}
	delete(fs.dirty, d)
	return nil
}

// syncDirectory is the fsync of directory d: its entries, those of the directories a rename ties
// to it, or (-ordered) every namespace change so far.
func (fs *powercut) syncDirectory(d *node) error {
	if fs.ordered {
		return fs.syncNamespace()
	}
	todo := []*node{d}
	for len(todo) > 0 {
		d, todo = todo[len(todo)-1], todo[:len(todo)-1]
		for other := range d.coupled {
			delete(other.coupled, d)
			todo = append(todo, other)
		}
		d.coupled = nil
		if err := fs.reconcile(d); err != nil {
			return err
		}
	}
	return nil
}

func (fs *powercut) syncNamespace() error {
	for d := range fs.dirty {
		if err := fs.reconcile(d); err != nil {
			return err
		}
		d.coupled = nil
	}
	return nil
}

// syncData is the fsync of file n's data: the backing inode gets the file's bytes and size.
func (fs *powercut) syncData(n *node) error {
	f, err := os.OpenFile(fs.staged(n), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	// Cut first where a truncate made the backing bytes stale, so that what no page covers
	// between there and the new size reads as zeros.
	if err := f.Truncate(n.valid); err != nil {
		return err
	}
	for idx, page := range n.pages {
		at := idx * pageSize
		if end := n.size - at; end < pageSize {
			page = page[:end]
		}
		if _, err := f.WriteAt(page, at); err != nil {
			return err
		}
	}
	if err := f.Truncate(n.size); err != nil {
		return err
	}
	n.pages, n.valid = nil, n.size
	return nil
}

// readAt reads file data as seen through the mount: unsynced pages over the backing inode.
func (fs *powercut) readAt(n *node, p []byte, off int64) error {
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	for len(p) > 0 {
		idx, in := off/pageSize, off%pageSize
		chunk := min(int64(len(p)), pageSize-in)
		if page := n.pages[idx]; page != nil {
			copy(p[:chunk], page[in:])
		} else {
			clear(p[:chunk])
			if stored := min(chunk, n.valid-off); stored > 0 {
				if f == nil {
					var err error
					if f, err = os.Open(fs.staged(n)); err != nil {
						return err
					}
				}
				if _, err := f.ReadAt(p[:stored], off); err != nil && err != io.EOF {
					return err
				}
			}
		}
		p, off = p[chunk:], off+chunk
	}
	return nil
}

func (fs *powercut) write(n *node, data []byte, off int64) error {
	if n.pages == nil {
		n.pages = map[int64][]byte{}
	}
	for len(data) > 0 {
		idx, in := off/pageSize, off%pageSize
		page := n.pages[idx]
		if page == nil {
			page = make([]byte, pageSize)
			if err := fs.readAt(n, page, idx*pageSize); err != nil {
				return err
			}
			n.pages[idx] = page
		}
		done := copy(page[in:], data)
		data, off = data[done:], off+int64(done)
	}
	n.size = max(n.size, off)
	n.mtime = time.Now()
	return nil
}

func (fs *powercut) truncate(n *node, size int64) {
	if size < n.size {
		for idx, page := range n.pages {
			switch at := idx * pageSize; {
			case at >= size:
				delete(n.pages, idx)
			case at+pageSize > size:
				clear(page[size-at:])
			}
		}
		n.valid = min(n.valid, size)
	}
	n.size = size
	n.mtime = time.Now()
}

// cut drops everything not durable and refuses all further requests.
func (fs *powercut) cut() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.dead {
		return
	}
	var bytes, files int
	for _, n := range fs.nodes {
		if len(n.pages) > 0 {
			files++
			bytes += len(n.pages) * pageSize
		}
	}
	log.Printf("power cut: dropped %d unsynced pages' worth of data (%d bytes) in %d files and the unsynced entries of %d directories",
		bytes/pageSize, bytes, files, len(fs.dirty))
	fs.dead, fs.nodes, fs.dirty, fs.byInode = true, nil, nil, nil
}
