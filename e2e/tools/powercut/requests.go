package main

// The FUSE requests: each takes the tree's mutex for its whole length (begin), checks its
// arguments as the kernel's own filesystems would, and changes the tree seen through the mount;
// only Fsync and FsyncDir touch what the backing folder holds.

import (
	"os"
	"sort"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

func (fs *powercut) attr(n *node, a *fuse.Attr) {
	a.Ino = n.ino
	a.Mode = n.mode
	if n.dir {
		a.Mode |= syscall.S_IFDIR
		a.Nlink = 2
	} else {
		a.Mode |= syscall.S_IFREG
		a.Nlink = uint32(n.links)
		a.Size = uint64(n.size)
		a.Blocks = (a.Size + 511) / 512
	}
	a.Uid, a.Gid = n.uid, n.gid
	a.Blksize = pageSize
	a.SetTimes(&n.mtime, &n.mtime, &n.mtime)
}

func (fs *powercut) entry(n *node, out *fuse.EntryOut) {
	out.NodeId, out.Generation = n.ino, 1
	out.SetEntryTimeout(cacheFor)
	out.SetAttrTimeout(cacheFor)
	fs.attr(n, &out.Attr)
}

// begin locks the tree for one request and finds its node; the status is not OK after a cut.
func (fs *powercut) begin(id uint64) (*node, fuse.Status) {
	fs.mu.Lock()
	if fs.dead {
		return nil, fuse.EIO
	}
	if n := fs.nodes[id]; n != nil {
		return n, fuse.OK
	}
	return nil, fuse.Status(syscall.ESTALE)
}

// directory is begin for a request on a directory's entries.
func (fs *powercut) directory(id uint64) (*node, fuse.Status) {
	d, st := fs.begin(id)
	switch {
	case !st.Ok():
		return nil, st
	case !d.dir:
		return nil, fuse.ENOTDIR
	}
	return d, fuse.ToStatus(fs.load(d))
}

func (fs *powercut) changed(d *node) { fs.dirty[d] = true }

func (fs *powercut) String() string { return "powercut" }

func (fs *powercut) Lookup(_ <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	defer fs.mu.Unlock()
	d, st := fs.directory(h.NodeId)
	if !st.Ok() {
		return st
	}
	k := d.kids[name]
	if k == nil {
		return fuse.ENOENT
	}
	fs.entry(k, out)
	return fuse.OK
}

func (fs *powercut) GetAttr(_ <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	defer fs.mu.Unlock()
	n, st := fs.begin(in.NodeId)
	if !st.Ok() {
		return st
	}
	out.SetTimeout(cacheFor)
	fs.attr(n, &out.Attr)
	return fuse.OK
}

func (fs *powercut) SetAttr(_ <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	defer fs.mu.Unlock()
	n, st := fs.begin(in.NodeId)
	if !st.Ok() {
		return st
	}
	if in.Valid&fuse.FATTR_SIZE != 0 {
		if n.dir {
			return fuse.Status(syscall.EISDIR)
		}
		fs.truncate(n, int64(in.Size))
	}
	if in.Valid&fuse.FATTR_MODE != 0 {
		n.mode = in.Mode & 0o7777
	}
	if in.Valid&fuse.FATTR_MTIME != 0 {
		n.mtime = time.Unix(int64(in.Mtime), int64(in.Mtimensec))
	}
	out.SetTimeout(cacheFor)
	fs.attr(n, &out.Attr)
	return fuse.OK
}

func (fs *powercut) Mkdir(_ <-chan struct{}, in *fuse.MkdirIn, name string, out *fuse.EntryOut) fuse.Status {
	defer fs.mu.Unlock()
	d, st := fs.directory(in.NodeId)
	if !st.Ok() {
		return st
	}
	if d.kids[name] != nil {
		return fuse.Status(syscall.EEXIST)
	}
	k := fs.newNode(true, in.Mode, in.Uid, in.Gid)
	if err := os.Mkdir(fs.staged(k), 0o755); err != nil {
		return fuse.ToStatus(err)
	}
	k.kids, k.durable, k.up = map[string]*node{}, map[string]*node{}, d
	d.kids[name] = k
	fs.changed(d)
	fs.entry(k, out)
	return fuse.OK
}

func (fs *powercut) Create(_ <-chan struct{}, in *fuse.CreateIn, name string, out *fuse.CreateOut) fuse.Status {
	defer fs.mu.Unlock()
	d, st := fs.directory(in.NodeId)
	if !st.Ok() {
		return st
	}
	k := d.kids[name]
	switch {
	case k != nil && in.Flags&syscall.O_EXCL != 0:
		return fuse.Status(syscall.EEXIST)
	case k != nil && k.dir:
		return fuse.Status(syscall.EISDIR)
	case k != nil && in.Flags&syscall.O_TRUNC != 0:
		fs.truncate(k, 0)
	case k == nil:
		k = fs.newNode(false, in.Mode, in.Uid, in.Gid)
		f, err := os.OpenFile(fs.staged(k), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return fuse.ToStatus(err)
		}
		f.Close()
		k.links = 1
		d.kids[name] = k
		fs.changed(d)
	}
	fs.entry(k, &out.EntryOut)
	out.OpenOut.OpenFlags |= fuse.FOPEN_DIRECT_IO // see "Reads and writes" in main.go
	return fuse.OK
}

func (fs *powercut) Open(_ <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	defer fs.mu.Unlock()
	n, st := fs.begin(in.NodeId)
	if !st.Ok() {
		return st
	}
	if n.dir {
		return fuse.Status(syscall.EISDIR)
	}
	if in.Flags&syscall.O_TRUNC != 0 {
		fs.truncate(n, 0)
	}
	out.OpenFlags |= fuse.FOPEN_DIRECT_IO // see "Reads and writes" in main.go
	return fuse.OK
}

func (fs *powercut) Read(_ <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	defer fs.mu.Unlock()
	n, st := fs.begin(in.NodeId)
	if !st.Ok() {
		return nil, st
	}
	off := int64(in.Offset)
	end := min(off+int64(in.Size), off+int64(len(buf)), n.size)
	if end <= off {
		return fuse.ReadResultData(nil), fuse.OK
	}
	if err := fs.readAt(n, buf[:end-off], off); err != nil {
		return nil, fuse.ToStatus(err)
	}
	return fuse.ReadResultData(buf[:end-off]), fuse.OK
}

func (fs *powercut) Write(_ <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	defer fs.mu.Unlock()
	n, st := fs.begin(in.NodeId)
	if !st.Ok() {
		return 0, st
	}
	if err := fs.write(n, data, int64(in.Offset)); err != nil {
		return 0, fuse.ToStatus(err)
	}
	return uint32(len(data)), fuse.OK
}

func (fs *powercut) Fsync(_ <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	defer fs.mu.Unlock()
	n, st := fs.begin(in.NodeId)
	if !st.Ok() {
		return st
	}
	if fs.ordered {
		if err := fs.syncNamespace(); err != nil {
			return fuse.ToStatus(err)
		}
	}
	return fuse.ToStatus(fs.syncData(n))
}

func (fs *powercut) FsyncDir(_ <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	defer fs.mu.Unlock()
	d, st := fs.directory(in.NodeId)
	if !st.Ok() {
		return st
	}
	return fuse.ToStatus(fs.syncDirectory(d))
}

func (fs *powercut) Unlink(_ <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	defer fs.mu.Unlock()
	d, st := fs.directory(h.NodeId)
	if !st.Ok() {
		return st
	}
	k := d.kids[name]
	switch {
	case k == nil:
		return fuse.ENOENT
	case k.dir:
		return fuse.Status(syscall.EISDIR)
	}
	delete(d.kids, name)
	k.links--
	fs.changed(d)
	return fuse.OK
}

func (fs *powercut) Rmdir(_ <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	defer fs.mu.Unlock()
	d, st := fs.directory(h.NodeId)
	if !st.Ok() {
		return st
	}
	k := d.kids[name]
	switch {
	case k == nil:
		return fuse.ENOENT
	case !k.dir:
		return fuse.ENOTDIR
	}
	if err := fs.load(k); err != nil {
		return fuse.ToStatus(err)
	}
	if len(k.kids) > 0 {
		return fuse.Status(syscall.ENOTEMPTY)
	}
	delete(d.kids, name)
	fs.changed(d)
	return fuse.OK
}

const (
	renameNoReplace = 1
	renameExchange  = 2
)

func (fs *powercut) Rename(_ <-chan struct{}, in *fuse.RenameIn, oldName, newName string) fuse.Status {
	defer fs.mu.Unlock()
	from, st := fs.directory(in.NodeId)
	if !st.Ok() {
		return st
	}
	to := fs.nodes[in.Newdir]
	if to == nil || !to.dir {
		return fuse.ENOTDIR
	}
	if err := fs.load(to); err != nil {
		return fuse.ToStatus(err)
	}
	k, old := from.kids[oldName], to.kids[newName]
	switch {
	case in.Flags&renameExchange != 0:
		return fuse.EINVAL
	case k == nil:
		return fuse.ENOENT
	case old == k:
		return fuse.OK
	case old != nil && in.Flags&renameNoReplace != 0:
		return fuse.Status(syscall.EEXIST)
	case old != nil && old.dir && !k.dir:
		return fuse.Status(syscall.EISDIR)
	case old != nil && !old.dir && k.dir:
		return fuse.ENOTDIR
	}
	if old != nil && old.dir {
		if err := fs.load(old); err != nil {
			return fuse.ToStatus(err)
		}
		if len(old.kids) > 0 {
			return fuse.Status(syscall.ENOTEMPTY)
		}
	}
	if k.dir {
		for p := to; ; p = p.up {
			if p == k {
				return fuse.EINVAL
			}
			if p.ino == fuse.FUSE_ROOT_ID {
				break
			}
		}
		k.up = to
	}
	if old != nil && !old.dir {
		old.links--
	}
	delete(from.kids, oldName)
	to.kids[newName] = k
	fs.changed(from)
	fs.changed(to)
	if from != to {
		if from.coupled == nil {
			from.coupled = map[*node]bool{}
		}
		if to.coupled == nil {
			to.coupled = map[*node]bool{}
		}
		from.coupled[to], to.coupled[from] = true, true
	}
	return fuse.OK
}

func (fs *powercut) Link(_ <-chan struct{}, in *fuse.LinkIn, name string, out *fuse.EntryOut) fuse.Status {
	defer fs.mu.Unlock()
	d, st := fs.directory(in.NodeId)
	if !st.Ok() {
		return st
	}
	k := fs.nodes[in.Oldnodeid]
	switch {
	case k == nil:
		return fuse.ENOENT
	case k.dir:
		return fuse.EPERM
	case d.kids[name] != nil:
		return fuse.Status(syscall.EEXIST)
	}
	d.kids[name] = k
	k.links++
	fs.changed(d)
	fs.entry(k, out)
	return fuse.OK
}

func (fs *powercut) OpenDir(_ <-chan struct{}, in *fuse.OpenIn, _ *fuse.OpenOut) fuse.Status {
	defer fs.mu.Unlock()
	_, st := fs.directory(in.NodeId)
	return st
}

// ReadDir lists entries by name; an offset is an index in that order, so entries added or
// removed while a listing is under way may be missed or repeated, as POSIX allows.
func (fs *powercut) ReadDir(_ <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	defer fs.mu.Unlock()
	d, st := fs.directory(in.NodeId)
	if !st.Ok() {
		return st
	}
	names := make([]string, 0, len(d.kids))
	for name := range d.kids {
		names = append(names, name)
	}
	sort.Strings(names)
	for i := in.Offset; i < uint64(len(names)); i++ {
		k := d.kids[names[i]]
		mode := uint32(syscall.S_IFREG)
		if k.dir {
			mode = syscall.S_IFDIR
		}
		if !out.AddDirEntry(fuse.DirEntry{Name: names[i], Mode: mode, Ino: k.ino, Off: i + 1}) {
			break
		}
	}
	return fuse.OK
}

func (fs *powercut) StatFs(_ <-chan struct{}, h *fuse.InHeader, out *fuse.StatfsOut) fuse.Status {
	defer fs.mu.Unlock()
	if _, st := fs.begin(h.NodeId); !st.Ok() {
		return st
	}
	var s syscall.Statfs_t
	if err := syscall.Statfs(fs.backing, &s); err != nil {
		return fuse.ToStatus(err)
	}
	out.FromStatfsT(&s)
	return fuse.OK
}
