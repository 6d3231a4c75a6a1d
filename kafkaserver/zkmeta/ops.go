package zkmeta

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

// Kafka-level errors (the exceptions KafkaZkClient and AdminZkClient throw).
var (
	// ErrControllerMoved: a fenced write found /controller_epoch at another zkVersion, or election was lost.
	ErrControllerMoved = errors.New("controller moved")
	// ErrTopicExists is TopicExistsException.
	ErrTopicExists = errors.New("topic already exists")
	// ErrInvalidTopic is InvalidTopicException.
	ErrInvalidTopic = errors.New("invalid topic")
	// ErrInvalidReplicaAssignment is InvalidReplicaAssignmentException.
	ErrInvalidReplicaAssignment = errors.New("invalid replica assignment")
)

// ---- generic helpers (KafkaZkClient) ----

func parentPath(p string) string {
	i := strings.LastIndex(p, "/")
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// createRecursive is KafkaZkClient.createRecursive: create path with data, creating missing parents with null
// data; with throwIfExists false an existing node is fine.
func (c *Client) createRecursive(path string, data []byte, throwIfExists bool) error {
	_, err := c.Create(path, data, 0)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, zk.ErrNodeExists):
		if throwIfExists {
			return err
		}
		return nil
	case errors.Is(err, zk.ErrNoNode):
		if err := c.createParents(parentPath(path)); err != nil {
			return err
		}
		_, err = c.Create(path, data, 0)
		if err != nil && (throwIfExists || !errors.Is(err, zk.ErrNodeExists)) {
			return err
		}
		return nil
	default:
		return err
	}
}

func (c *Client) createParents(path string) error {
	if path == "/" || path == "" {
		return nil
	}
	_, err := c.Create(path, nil, 0)
	if errors.Is(err, zk.ErrNoNode) {
		if err := c.createParents(parentPath(path)); err != nil {
			return err
		}
		_, err = c.Create(path, nil, 0)
	}
	if err != nil && !errors.Is(err, zk.ErrNodeExists) {
		return err
	}
	return nil
}

// CreateRecursive creates path (and missing parents); with throwIfExists an existing node is zk.ErrNodeExists.
func (c *Client) CreateRecursive(path string, data []byte, throwIfExists bool) error {
	return c.createRecursive(path, data, throwIfExists)
}

// MakeSurePersistentPathExists creates path with null data unless it exists.
func (c *Client) MakeSurePersistentPathExists(path string) error {
	return c.createRecursive(path, nil, false)
}

// CreateTopLevelPaths creates ZkData.PersistentZkPaths, as every broker does at startup.
func (c *Client) CreateTopLevelPaths() error {
	for _, p := range PersistentPaths() {
		if err := c.MakeSurePersistentPathExists(p); err != nil {
			return fmt.Errorf("create top level paths: %w", err)
		}
	}
	return nil
}

// PathExists reports whether path exists.
func (c *Client) PathExists(path string) (bool, error) {
	ok, _, err := c.Exists(path)
	return ok, err
}

// GetDataAndStat returns the data and stat of path, or (nil, nil, nil) if it does not exist.
func (c *Client) GetDataAndStat(path string) ([]byte, *zk.Stat, error) {
	b, s, err := c.Get(path)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil, nil
	}
	return b, s, err
}

// GetChildren lists children, empty if path does not exist.
func (c *Client) GetChildren(path string) ([]string, error) {
	ch, err := c.Children(path)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	return ch, err
}

// ConditionalUpdatePath sets data if the version matches; it returns (false, -2) on a version mismatch or a missing
// node, as KafkaZkClient.conditionalUpdatePath without a checker.
func (c *Client) ConditionalUpdatePath(path string, data []byte, expectVersion int32) (bool, int32, error) {
	s, err := c.Set(path, data, expectVersion)
	switch {
	case err == nil:
		return true, s.Version, nil
	case errors.Is(err, zk.ErrBadVersion), errors.Is(err, zk.ErrNoNode):
		return false, -2, nil
	default:
		return false, -2, err
	}
}

// DeleteRecursive deletes path and its subtree (fenced when controllerEpochZkVersion >= 0); false if absent.
func (c *Client) DeleteRecursive(path string, controllerEpochZkVersion int32) (bool, error) {
	ch, err := c.Children(path)
	if errors.Is(err, zk.ErrNoNode) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, child := range ch {
		if _, err := c.DeleteRecursive(path+"/"+child, controllerEpochZkVersion); err != nil {
			return false, err
		}
	}
	if err := c.FencedDelete(path, MatchAnyVersion, controllerEpochZkVersion); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return false, err
	}
	return true, nil
}

// ---- controller fencing (wrapRequestWithControllerEpochCheck) ----

// fenced runs op alone when controllerEpochZkVersion is MatchAnyVersion, else as multi{check(/controller_epoch,
// controllerEpochZkVersion), op}. A failed check is ErrControllerMoved; otherwise the op's own result is returned.
func (c *Client) fenced(op any, controllerEpochZkVersion int32) (zk.MultiResponse, error) {
	if controllerEpochZkVersion < MatchAnyVersion {
		return zk.MultiResponse{}, fmt.Errorf("expected controller epoch zkVersion %d should be non-negative or -1", controllerEpochZkVersion)
	}
	if controllerEpochZkVersion == MatchAnyVersion {
		// Unfenced: the plain request, as Kafka sends it.
		switch o := op.(type) {
		case *zk.CreateRequest:
			p, err := c.Create(o.Path, o.Data, o.Flags)
			return zk.MultiResponse{String: p, Error: err}, err
		case *zk.SetDataRequest:
			st, err := c.Set(o.Path, o.Data, o.Version)
			return zk.MultiResponse{Stat: st, Error: err}, err
		case *zk.DeleteRequest:
			err := c.Delete(o.Path, o.Version)
			return zk.MultiResponse{Error: err}, err
		}
		return zk.MultiResponse{}, fmt.Errorf("fenced: unsupported op %T", op)
	}
	res, err := c.Multi(&zk.CheckVersionRequest{Path: ControllerEpochPath, Version: controllerEpochZkVersion}, op)
	if err == nil {
		return res[len(res)-1], nil
	}
	if len(res) == 2 && res[0].Error != nil {
		if errors.Is(res[0].Error, zk.ErrBadVersion) {
			return zk.MultiResponse{}, fmt.Errorf("controller epoch zkVersion check failed, expected %d: %w: %w", controllerEpochZkVersion, ErrControllerMoved, zk.ErrBadVersion)
		}
		return zk.MultiResponse{}, fmt.Errorf("check %s: %w", ControllerEpochPath, res[0].Error)
	}
	if len(res) > 0 && res[len(res)-1].Error != nil {
		return res[len(res)-1], res[len(res)-1].Error
	}
	return zk.MultiResponse{}, err
}

// FencedCreate creates path (persistent unless flags say otherwise) if the controller epoch zkVersion still
// matches; it returns the created path.
func (c *Client) FencedCreate(path string, data []byte, flags int32, controllerEpochZkVersion int32) (string, error) {
	r, err := c.fenced(&zk.CreateRequest{Path: path, Data: data, Flags: flags}, controllerEpochZkVersion)
	if err != nil {
		return "", fmt.Errorf("fenced create %s: %w", path, err)
	}
	return r.String, nil
}

// FencedSet sets data at version if the controller epoch zkVersion still matches; it returns the new stat.
func (c *Client) FencedSet(path string, data []byte, version, controllerEpochZkVersion int32) (*zk.Stat, error) {
	r, err := c.fenced(&zk.SetDataRequest{Path: path, Data: data, Version: version}, controllerEpochZkVersion)
	if err != nil {
		return nil, fmt.Errorf("fenced set %s: %w", path, err)
	}
	return r.Stat, nil
}

// FencedDelete deletes path at version if the controller epoch zkVersion still matches.
func (c *Client) FencedDelete(path string, version, controllerEpochZkVersion int32) error {
	if _, err := c.fenced(&zk.DeleteRequest{Path: path, Version: version}, controllerEpochZkVersion); err != nil {
		return fmt.Errorf("fenced delete %s: %w", path, err)
	}
	return nil
}

// ---- controller election ----

// GetControllerID returns the broker id in /controller, or -1 if there is none.
func (c *Client) GetControllerID() (int32, error) {
	b, _, err := c.GetDataAndStat(ControllerPath)
	if err != nil || b == nil {
		return -1, err
	}
	ci, err := DecodeControllerInfo(b)
	if err != nil {
		return -1, err
	}
	return ci.BrokerID, nil
}

// GetControllerEpoch returns the epoch and its znode's zkVersion; ok is false when /controller_epoch is absent.
func (c *Client) GetControllerEpoch() (epoch, zkVersion int32, ok bool, err error) {
	b, s, err := c.GetDataAndStat(ControllerEpochPath)
	if err != nil || s == nil {
		return 0, 0, false, err
	}
	epoch, err = DecodeControllerEpoch(b)
	if err != nil {
		return 0, 0, false, err
	}
	return epoch, s.Version, true, nil
}

// ElectController is registerControllerAndIncrementControllerEpoch: create /controller_epoch as "0" if absent,
// then atomically create the ephemeral /controller and bump the epoch conditioned on its zkVersion. It returns the
// new epoch and the epoch znode's zkVersion, which fences all later controller writes. Losing is
// ErrControllerMoved (wrapping zk.ErrNodeExists or zk.ErrBadVersion when that is how it was lost).
func (c *Client) ElectController(brokerID int32) (epoch, epochZkVersion int32, err error) {
	cur, curVersion, ok, err := c.GetControllerEpoch()
	if err != nil {
		return 0, 0, fmt.Errorf("elect controller: %w", err)
	}
	if !ok {
		_, err := c.Create(ControllerEpochPath, EncodeControllerEpoch(0), 0)
		switch {
		case err == nil:
			cur, curVersion = 0, 0
		case errors.Is(err, zk.ErrNodeExists):
			if cur, curVersion, ok, err = c.GetControllerEpoch(); err != nil || !ok {
				return 0, 0, fmt.Errorf("elect controller: %s vanished: %w", ControllerEpochPath, err)
			}
		default:
			return 0, 0, fmt.Errorf("elect controller: %w", err)
		}
	}
	newEpoch := cur + 1
	info := ControllerInfo{Version: 1, BrokerID: brokerID, Timestamp: time.Now().UnixMilli()}
	res, err := c.Multi(
		&zk.CreateRequest{Path: ControllerPath, Data: info.Encode(), Flags: zk.FlagEphemeral},
		&zk.SetDataRequest{Path: ControllerEpochPath, Data: EncodeControllerEpoch(newEpoch), Version: curVersion},
	)
	switch {
	case err == nil:
		return newEpoch, res[1].Stat.Version, nil
	case errors.Is(err, zk.ErrNodeExists), errors.Is(err, zk.ErrBadVersion):
		// Maybe we won and only the reply was lost: believe it if /controller is us at the new epoch.
		id, gerr := c.GetControllerID()
		if gerr != nil {
			return 0, 0, fmt.Errorf("elect controller: %w", gerr)
		}
		if id == brokerID {
			e, v, ok, gerr := c.GetControllerEpoch()
			if gerr == nil && ok && e == newEpoch {
				return newEpoch, v, nil
			}
		}
		return 0, 0, fmt.Errorf("elect controller (controller is %d): %w: %w", id, ErrControllerMoved, err)
	default:
		return 0, 0, fmt.Errorf("elect controller: %w", err)
	}
}

// DeleteController removes /controller (resignation), fenced.
func (c *Client) DeleteController(controllerEpochZkVersion int32) error {
	err := c.FencedDelete(ControllerPath, MatchAnyVersion, controllerEpochZkVersion)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	return err
}

// ---- brokers ----

// RegisterBroker creates the ephemeral /brokers/ids/<id> as multi{create(null), setData(data, 0)} (CheckedEphemeral)
// and returns the broker epoch (the znode's czxid). A node left by this client's previous (expired) session is
// deleted and recreated (KAFKA-7165); one owned by another live session is zk.ErrNodeExists.
func (c *Client) RegisterBroker(b BrokerInfo) (int64, error) {
	if b.Timestamp == 0 {
		b.Timestamp = time.Now().UnixMilli()
	}
	s, err := c.checkedEphemeralCreate(BrokerIDPath(b.ID), b.Encode())
	if err != nil {
		return 0, fmt.Errorf("register broker %d: %w", b.ID, err)
	}
	c.log.Info("registered broker", "id", b.ID, "czxid", s.Czxid)
	return s.Czxid, nil
}

func (c *Client) checkedEphemeralCreate(path string, data []byte) (*zk.Stat, error) {
	for attempt := 0; ; attempt++ {
		res, err := c.Multi(
			&zk.CreateRequest{Path: path, Flags: zk.FlagEphemeral},
			&zk.SetDataRequest{Path: path, Data: data, Version: 0},
		)
		if err == nil {
			c.mu.Lock()
			c.regSession = c.conn.SessionID()
			c.mu.Unlock()
			return res[1].Stat, nil
		}
		if !errors.Is(err, zk.ErrNodeExists) || attempt > 3 {
			return nil, err
		}
		_, s, gerr := c.Get(path)
		if errors.Is(gerr, zk.ErrNoNode) {
			continue // went away while we looked: create again
		}
		if gerr != nil {
			return nil, gerr
		}
		sid := c.conn.SessionID()
		c.mu.Lock()
		prev := c.regSession
		c.mu.Unlock()
		switch {
		case s.EphemeralOwner == prev && prev != sid:
			c.log.Info("ephemeral node left by our previous session; recreating", "path", path)
			if err := c.Delete(path, MatchAnyVersion); err != nil && !errors.Is(err, zk.ErrNoNode) {
				return nil, err
			}
		case s.EphemeralOwner != sid:
			return nil, fmt.Errorf("%s is owned by session 0x%x: %w", path, s.EphemeralOwner, zk.ErrNodeExists)
		default:
			c.mu.Lock()
			c.regSession = sid
			c.mu.Unlock()
			return s, nil
		}
	}
}

// UpdateBrokerInfo rewrites the registration (any version).
func (c *Client) UpdateBrokerInfo(b BrokerInfo) error {
	if b.Timestamp == 0 {
		b.Timestamp = time.Now().UnixMilli()
	}
	_, err := c.Set(BrokerIDPath(b.ID), b.Encode(), MatchAnyVersion)
	return err
}

// GetSortedBrokerList returns the registered broker ids, ascending.
func (c *Client) GetSortedBrokerList() ([]int32, error) {
	ch, err := c.GetChildren(BrokerIDsPath)
	if err != nil {
		return nil, err
	}
	ids := make([]int32, 0, len(ch))
	for _, s := range ch {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			continue // not a broker id
		}
		ids = append(ids, int32(n))
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// GetBroker returns a broker's registration with its epoch; ok is false if it is not registered.
func (c *Client) GetBroker(id int32) (BrokerInfo, bool, error) {
	b, s, err := c.GetDataAndStat(BrokerIDPath(id))
	if err != nil || s == nil {
		return BrokerInfo{}, false, err
	}
	bi, err := DecodeBrokerInfo(id, b)
	if err != nil {
		return bi, false, err
	}
	bi.Epoch = s.Czxid
	return bi, true, nil
}

// GetAllBrokers returns every registered broker (with epochs), sorted by id.
func (c *Client) GetAllBrokers() ([]BrokerInfo, error) {
	ids, err := c.GetSortedBrokerList()
	if err != nil {
		return nil, err
	}
	var out []BrokerInfo
	for _, id := range ids {
		b, ok, err := c.GetBroker(id)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, b)
		}
	}
	return out, nil
}

// GenerateBrokerID returns a new broker id: the dataVersion bumped by an unconditional setData on /brokers/seqid
// plus reserved.broker.max.id (default 1000), as KafkaServer.getOrGenerateBrokerId.
func (c *Client) GenerateBrokerID(reservedBrokerMaxID int32) (int32, error) {
	for i := 0; i < 3; i++ {
		s, err := c.Set(BrokerSeqIDPath, []byte{}, MatchAnyVersion)
		if err == nil {
			return s.Version + reservedBrokerMaxID, nil
		}
		if !errors.Is(err, zk.ErrNoNode) {
			return 0, fmt.Errorf("generate broker id: %w", err)
		}
		if err := c.createRecursive(BrokerSeqIDPath, []byte{}, false); err != nil {
			return 0, fmt.Errorf("generate broker id: %w", err)
		}
	}
	return 0, fmt.Errorf("generate broker id: %s keeps vanishing", BrokerSeqIDPath)
}

// ---- cluster id ----

// GetClusterID returns /cluster/id's id; ok is false if absent.
func (c *Client) GetClusterID() (string, bool, error) {
	b, s, err := c.GetDataAndStat(ClusterIDPath)
	if err != nil || s == nil {
		return "", false, err
	}
	id, err := DecodeClusterID(b)
	return id, err == nil, err
}

// GetOrCreateClusterID returns the cluster id, creating /cluster/id with a new random id (22-char base64url) if
// absent; a concurrent creator wins (createOrGetClusterId).
func (c *Client) GetOrCreateClusterID() (string, error) {
	if id, ok, err := c.GetClusterID(); err != nil || ok {
		return id, err
	}
	u, err := NewUuid()
	if err != nil {
		return "", err
	}
	proposed := u.String()
	err = c.createRecursive(ClusterIDPath, EncodeClusterID(proposed), true)
	if err == nil {
		return proposed, nil
	}
	if !errors.Is(err, zk.ErrNodeExists) {
		return "", fmt.Errorf("create cluster id: %w", err)
	}
	id, ok, err := c.GetClusterID()
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("failed to get cluster id: %s deleted concurrently", ClusterIDPath)
	}
	return id, nil
}

// ---- topics ----

// ValidateTopicName is Topic.validate.
func ValidateTopicName(topic string) error {
	switch {
	case topic == "":
		return fmt.Errorf("%w: Topic name is illegal, it can't be empty", ErrInvalidTopic)
	case topic == "." || topic == "..":
		return fmt.Errorf("%w: Topic name cannot be \".\" or \"..\"", ErrInvalidTopic)
	case len(topic) > 249:
		return fmt.Errorf("%w: Topic name is illegal, it can't be longer than 249 characters, topic name: %s", ErrInvalidTopic, topic)
	}
	for _, r := range topic {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%w: Topic name \"%s\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'", ErrInvalidTopic, topic)
		}
	}
	return nil
}

func topicCollides(a, b string) bool {
	return strings.ReplaceAll(a, ".", "_") == strings.ReplaceAll(b, ".", "_")
}

// ValidateTopicCreate is AdminZkClient.validateTopicCreate minus LogConfig validation (the caller's job).
func (c *Client) ValidateTopicCreate(topic string, assignment map[int32][]int32) error {
	if err := ValidateTopicName(topic); err != nil {
		return err
	}
	exists, err := c.TopicExists(topic)
	if err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("%w: Topic '%s' already exists.", ErrTopicExists, topic)
	}
	if strings.ContainsAny(topic, "._") {
		all, err := c.GetTopics()
		if err != nil {
			return err
		}
		var coll []string
		for _, t := range all {
			if t == topic {
				return fmt.Errorf("%w: Topic '%s' already exists.", ErrTopicExists, topic)
			}
			if topicCollides(topic, t) {
				coll = append(coll, t)
			}
		}
		if len(coll) > 0 {
			return fmt.Errorf("%w: Topic '%s' collides with existing topics: %s", ErrInvalidTopic, topic, strings.Join(coll, ", "))
		}
	}
	rf := -1
	var sum int64
	for p, reps := range assignment {
		if rf != -1 && len(reps) != rf {
			return fmt.Errorf("%w: All partitions should have the same number of replicas", ErrInvalidReplicaAssignment)
		}
		rf = len(reps)
		seen := map[int32]bool{}
		for _, r := range reps {
			if seen[r] {
				return fmt.Errorf("%w: Duplicate replica assignment found: %v", ErrInvalidReplicaAssignment, assignment)
			}
			seen[r] = true
		}
		if p >= 0 {
			sum += int64(p)
		}
	}
	n := int64(len(assignment))
	if sum != n*(n-1)/2 {
		return fmt.Errorf("%w: partitions should be a consecutive 0-based integer sequence", ErrInvalidReplicaAssignment)
	}
	return checkZnodeData(topic, newTopicAssignment(assignment, ZeroUuid).Encode())
}

func newTopicAssignment(assignment map[int32][]int32, topicID Uuid) TopicAssignment {
	ta := TopicAssignment{Partitions: make(map[int32]ReplicaAssignment, len(assignment)), TopicID: topicID}
	for p, reps := range assignment {
		ta.Partitions[p] = ReplicaAssignment{Replicas: reps}
	}
	return ta
}

// CreateTopic is AdminZkClient.createTopicWithAssignment: validate, write /config/topics/<t> (set, else create;
// not transactional with the next step), then create /brokers/topics/<t> (version 3; topic_id only when topicID is
// not zero: the ZK TopicCommand writes none, the controller adds it later).
func (c *Client) CreateTopic(topic string, assignment map[int32][]int32, config map[string]string, topicID Uuid) error {
	if err := c.ValidateTopicCreate(topic, assignment); err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	if err := c.SetOrCreateEntityConfigs(ConfigTypeTopic, topic, config); err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	data := newTopicAssignment(assignment, topicID).Encode()
	if err := checkZnodeData(topic, data); err != nil { // with its topic id, longer than the JSON validated
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	if err := c.createRecursive(TopicPath(topic), data, true); err != nil {
		if errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("create topic %s: %w: Topic '%s' already exists.", topic, ErrTopicExists, topic)
		}
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

// TopicExists reports whether /brokers/topics/<t> exists.
func (c *Client) TopicExists(topic string) (bool, error) { return c.PathExists(TopicPath(topic)) }

// GetTopics lists /brokers/topics, sorted.
func (c *Client) GetTopics() ([]string, error) {
	ts, err := c.GetChildren(TopicsPath)
	sort.Strings(ts)
	return ts, err
}

// GetTopicAssignment reads a topic znode; ok is false if the topic does not exist.
func (c *Client) GetTopicAssignment(topic string) (TopicAssignment, bool, error) {
	b, s, err := c.GetDataAndStat(TopicPath(topic))
	if err != nil || s == nil {
		return TopicAssignment{}, false, err
	}
	ta, err := DecodeTopicAssignment(topic, b)
	return ta, err == nil, err
}

// GetTopicAssignments reads several topics; absent ones are left out.
func (c *Client) GetTopicAssignments(topics []string) (map[string]TopicAssignment, error) {
	out := make(map[string]TopicAssignment, len(topics))
	for _, t := range topics {
		ta, ok, err := c.GetTopicAssignment(t)
		if err != nil {
			return nil, err
		}
		if ok {
			out[t] = ta
		}
	}
	return out, nil
}

// SetTopicAssignment rewrites a topic znode (any version), fenced when controllerEpochZkVersion >= 0
// (setTopicAssignment / setTopicIds).
func (c *Client) SetTopicAssignment(topic string, ta TopicAssignment, controllerEpochZkVersion int32) error {
	data := ta.Encode()
	if err := checkZnodeData(topic, data); err != nil {
		return err
	}
	_, err := c.FencedSet(TopicPath(topic), data, MatchAnyVersion, controllerEpochZkVersion)
	return err
}

// DeleteTopicZNode deletes /brokers/topics/<t> recursively, fenced.
func (c *Client) DeleteTopicZNode(topic string, controllerEpochZkVersion int32) error {
	_, err := c.DeleteRecursive(TopicPath(topic), controllerEpochZkVersion)
	return err
}

// DeleteTopicConfigs deletes /config/topics/<t> for each topic, fenced (missing ones are fine).
func (c *Client) DeleteTopicConfigs(topics []string, controllerEpochZkVersion int32) error {
	for _, t := range topics {
		if err := c.FencedDelete(TopicConfigPath(t), MatchAnyVersion, controllerEpochZkVersion); err != nil && !errors.Is(err, zk.ErrNoNode) {
			return err
		}
	}
	return nil
}

// ---- partition state ----

// GetPartitionState reads a state znode; ok is false if it does not exist. ZkVersion is filled from the stat.
func (c *Client) GetPartitionState(tp TopicPartition) (PartitionState, bool, error) {
	b, s, err := c.GetDataAndStat(PartitionStatePath(tp.Topic, tp.Partition))
	if err != nil || s == nil {
		return PartitionState{}, false, err
	}
	ps, err := DecodePartitionState(b, s.Version)
	return ps, err == nil, err
}

// GetPartitionStates reads several state znodes; absent ones are left out.
func (c *Client) GetPartitionStates(tps []TopicPartition) (map[TopicPartition]PartitionState, error) {
	out := make(map[TopicPartition]PartitionState, len(tps))
	for _, tp := range tps {
		ps, ok, err := c.GetPartitionState(tp)
		if err != nil {
			return nil, err
		}
		if ok {
			out[tp] = ps
		}
	}
	return out, nil
}

// CreatePartitionState creates .../partitions, .../partitions/<p> (null data, existing is fine) and the state
// znode, each fenced (createTopicPartitionStatesRaw). It returns the state's zkVersion (0); an existing state is
// zk.ErrNodeExists.
func (c *Client) CreatePartitionState(tp TopicPartition, st PartitionState, controllerEpochZkVersion int32) (int32, error) {
	for _, p := range []string{TopicPartitionsPath(tp.Topic), TopicPartitionPath(tp.Topic, tp.Partition)} {
		if _, err := c.FencedCreate(p, nil, 0, controllerEpochZkVersion); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return 0, err
		}
	}
	if _, err := c.FencedCreate(PartitionStatePath(tp.Topic, tp.Partition), st.Encode(), 0, controllerEpochZkVersion); err != nil {
		return 0, err
	}
	return 0, nil
}

// SetPartitionState writes a state znode conditional on its zkVersion (st.ZkVersion) and, when
// controllerEpochZkVersion >= 0, on the controller epoch. It returns the new zkVersion; a concurrent change is
// zk.ErrBadVersion (re-read and retry), a newer controller ErrControllerMoved.
func (c *Client) SetPartitionState(tp TopicPartition, st PartitionState, controllerEpochZkVersion int32) (int32, error) {
	s, err := c.FencedSet(PartitionStatePath(tp.Topic, tp.Partition), st.Encode(), st.ZkVersion, controllerEpochZkVersion)
	if err != nil {
		return 0, err
	}
	return s.Version, nil
}

// ---- configs ----

// GetEntityConfigs reads /config/<type>/<name>; absent is an empty map.
func (c *Client) GetEntityConfigs(entityType, name string) (map[string]string, error) {
	b, s, err := c.GetDataAndStat(ConfigEntityPath(entityType, name))
	if err != nil {
		return nil, err
	}
	if s == nil {
		return map[string]string{}, nil
	}
	return DecodeEntityConfig(b)
}

// SetOrCreateEntityConfigs writes /config/<type>/<name>: set, else create (recursively), else set again.
func (c *Client) SetOrCreateEntityConfigs(entityType, name string, config map[string]string) error {
	path := ConfigEntityPath(entityType, name)
	data := EncodeEntityConfig(config)
	_, err := c.Set(path, data, MatchAnyVersion)
	if !errors.Is(err, zk.ErrNoNode) {
		return err
	}
	err = c.createRecursive(path, data, true)
	if errors.Is(err, zk.ErrNodeExists) {
		_, err = c.Set(path, data, MatchAnyVersion)
	}
	return err
}

// GetAllEntitiesWithConfig lists /config/<type>.
func (c *Client) GetAllEntitiesWithConfig(entityType string) ([]string, error) {
	return c.GetChildren(ConfigEntityTypePath(entityType))
}

// GetAllUserClientEntities lists the user/client-id quota entities, as "<user>/clients/<client>" names under
// /config/users (AdminZkClient.fetchAllChildEntityConfigs(users, clients)), users in order.
func (c *Client) GetAllUserClientEntities() ([]string, error) {
	users, err := c.GetAllEntitiesWithConfig(ConfigTypeUser)
	if err != nil {
		return nil, err
	}
	slices.Sort(users)
	var out []string
	for _, u := range users {
		clients, err := c.GetChildren(ConfigEntityPath(ConfigTypeUser, u) + "/" + ConfigTypeClient)
		if err != nil {
			return nil, fmt.Errorf("quota entities of user %s: %w", u, err)
		}
		slices.Sort(clients)
		for _, cl := range clients {
			out = append(out, u+"/"+ConfigTypeClient+"/"+cl)
		}
	}
	return out, nil
}

// CreateConfigChangeNotification creates a sequential /config/changes/config_change_ node for entityPath
// ("topics/foo", "users/alice/clients/app") and returns its path.
func (c *Client) CreateConfigChangeNotification(entityPath string) (string, error) {
	if err := c.MakeSurePersistentPathExists(ConfigChangesPath); err != nil {
		return "", err
	}
	return c.Create(ConfigChangeCreatePath(), EncodeConfigChange(entityPath), zk.FlagSequence)
}

// ---- topic deletion ----

// CreateDeleteTopicPath marks a topic for deletion (null data); already marked is zk.ErrNodeExists.
func (c *Client) CreateDeleteTopicPath(topic string) error {
	return c.createRecursive(DeleteTopicPath(topic), nil, true)
}

// IsTopicMarkedForDeletion reports whether /admin/delete_topics/<t> exists.
func (c *Client) IsTopicMarkedForDeletion(topic string) (bool, error) {
	return c.PathExists(DeleteTopicPath(topic))
}

// GetTopicDeletions lists topics marked for deletion.
func (c *Client) GetTopicDeletions() ([]string, error) { return c.GetChildren(DeleteTopicsPath) }

// DeleteTopicDeletions removes deletion markers, fenced.
func (c *Client) DeleteTopicDeletions(topics []string, controllerEpochZkVersion int32) error {
	for _, t := range topics {
		if err := c.FencedDelete(DeleteTopicPath(t), MatchAnyVersion, controllerEpochZkVersion); err != nil && !errors.Is(err, zk.ErrNoNode) {
			return err
		}
	}
	return nil
}

// ---- reassignment and preferred election ----

// GetPartitionReassignment reads /admin/reassign_partitions (nil if absent).
func (c *Client) GetPartitionReassignment() ([]PartitionReassignment, error) {
	b, s, err := c.GetDataAndStat(ReassignPartitionsPath)
	if err != nil || s == nil {
		return nil, err
	}
	return DecodeReassignPartitions(b)
}

// CreatePartitionReassignment creates /admin/reassign_partitions (an existing one is zk.ErrNodeExists).
func (c *Client) CreatePartitionReassignment(rs []PartitionReassignment) error {
	return c.createRecursive(ReassignPartitionsPath, EncodeReassignPartitions(rs), true)
}

// SetOrCreatePartitionReassignment sets, else creates, /admin/reassign_partitions, fenced.
func (c *Client) SetOrCreatePartitionReassignment(rs []PartitionReassignment, controllerEpochZkVersion int32) error {
	data := EncodeReassignPartitions(rs)
	_, err := c.FencedSet(ReassignPartitionsPath, data, MatchAnyVersion, controllerEpochZkVersion)
	if errors.Is(err, zk.ErrNoNode) {
		_, err = c.FencedCreate(ReassignPartitionsPath, data, 0, controllerEpochZkVersion)
	}
	return err
}

// DeletePartitionReassignment deletes /admin/reassign_partitions, fenced.
func (c *Client) DeletePartitionReassignment(controllerEpochZkVersion int32) error {
	_, err := c.DeleteRecursive(ReassignPartitionsPath, controllerEpochZkVersion)
	return err
}

// CreatePreferredReplicaElection creates /admin/preferred_replica_election (existing: zk.ErrNodeExists).
func (c *Client) CreatePreferredReplicaElection(ps []TopicPartition) error {
	return c.createRecursive(PreferredReplicaElectionPath, EncodePreferredReplicaElection(ps), true)
}

// GetPreferredReplicaElection reads /admin/preferred_replica_election (nil if absent).
func (c *Client) GetPreferredReplicaElection() ([]TopicPartition, error) {
	b, s, err := c.GetDataAndStat(PreferredReplicaElectionPath)
	if err != nil || s == nil {
		return nil, err
	}
	return DecodePreferredReplicaElection(b)
}

// DeletePreferredReplicaElection deletes /admin/preferred_replica_election, fenced.
func (c *Client) DeletePreferredReplicaElection(controllerEpochZkVersion int32) error {
	err := c.FencedDelete(PreferredReplicaElectionPath, MatchAnyVersion, controllerEpochZkVersion)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	return err
}

// ---- ISR change and log dir notifications ----

// PropagateIsrChanges creates a sequential isr_change_ notification and returns its path.
func (c *Client) PropagateIsrChanges(ps []TopicPartition) (string, error) {
	return c.Create(IsrChangeCreatePath(), EncodeIsrChangeNotification(ps), zk.FlagSequence)
}

// GetAllIsrChangeNotifications returns the sequence numbers of pending ISR change notifications, sorted.
func (c *Client) GetAllIsrChangeNotifications() ([]string, error) {
	return c.seqChildren(IsrChangeNotificationPath, IsrChangeSeqPrefix)
}

// GetPartitionsFromIsrChangeNotifications reads the partitions of the given notifications (gone ones skipped).
func (c *Client) GetPartitionsFromIsrChangeNotifications(seqs []string) ([]TopicPartition, error) {
	var out []TopicPartition
	for _, s := range seqs {
		b, st, err := c.GetDataAndStat(IsrChangePath(s))
		if err != nil {
			return nil, err
		}
		if st == nil {
			continue
		}
		ps, err := DecodeIsrChangeNotification(b)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
}

// DeleteIsrChangeNotifications deletes the given notifications, fenced.
func (c *Client) DeleteIsrChangeNotifications(seqs []string, controllerEpochZkVersion int32) error {
	for _, s := range seqs {
		if err := c.FencedDelete(IsrChangePath(s), MatchAnyVersion, controllerEpochZkVersion); err != nil && !errors.Is(err, zk.ErrNoNode) {
			return err
		}
	}
	return nil
}

// PropagateLogDirEvent creates a sequential log_dir_event_ notification for a broker whose log dir failed.
func (c *Client) PropagateLogDirEvent(brokerID int32) (string, error) {
	return c.Create(LogDirEventCreatePath(), EncodeLogDirEvent(brokerID), zk.FlagSequence)
}

// GetAllLogDirEventNotifications returns pending log dir event sequence numbers, sorted.
func (c *Client) GetAllLogDirEventNotifications() ([]string, error) {
	return c.seqChildren(LogDirEventNotificationPath, LogDirEventSeqPrefix)
}

// GetBrokerIDsFromLogDirEvents reads the broker ids of the given events (gone ones skipped).
func (c *Client) GetBrokerIDsFromLogDirEvents(seqs []string) ([]int32, error) {
	var out []int32
	for _, s := range seqs {
		b, st, err := c.GetDataAndStat(LogDirEventPath(s))
		if err != nil {
			return nil, err
		}
		if st == nil {
			continue
		}
		id, err := DecodeLogDirEvent(b)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// DeleteLogDirEventNotifications deletes the given events, fenced.
func (c *Client) DeleteLogDirEventNotifications(seqs []string, controllerEpochZkVersion int32) error {
	for _, s := range seqs {
		if err := c.FencedDelete(LogDirEventPath(s), MatchAnyVersion, controllerEpochZkVersion); err != nil && !errors.Is(err, zk.ErrNoNode) {
			return err
		}
	}
	return nil
}

func (c *Client) seqChildren(path, prefix string) ([]string, error) {
	ch, err := c.GetChildren(path)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ch))
	for _, n := range ch {
		if strings.HasPrefix(n, prefix) {
			out = append(out, SequenceNumber(n, prefix))
		}
	}
	sort.Strings(out)
	return out, nil
}

// ---- producer id blocks ----

// AllocateProducerIDBlock claims the next block of ProducerIDBlockSize ids for brokerID with a conditional update
// of /latest_producer_id_block, retrying on conflicts (ProducerIdManager.getNewProducerIdBlock).
func (c *Client) AllocateProducerIDBlock(brokerID int32) (ProducerIDBlock, error) {
	if err := c.MakeSurePersistentPathExists(ProducerIDBlockPath); err != nil {
		return ProducerIDBlock{}, err
	}
	for {
		b, s, err := c.GetDataAndStat(ProducerIDBlockPath)
		if err != nil {
			return ProducerIDBlock{}, err
		}
		if s == nil {
			return ProducerIDBlock{}, fmt.Errorf("allocate producer id block: %s vanished", ProducerIDBlockPath)
		}
		next := ProducerIDBlock{BrokerID: brokerID, BlockStart: 0, BlockEnd: ProducerIDBlockSize - 1}
		if len(b) > 0 {
			cur, err := DecodeProducerIDBlock(b)
			if err != nil {
				return ProducerIDBlock{}, err
			}
			if cur.BlockEnd > (1<<63-1)-ProducerIDBlockSize {
				return ProducerIDBlock{}, errors.New("allocate producer id block: have exhausted all producerIds")
			}
			next = ProducerIDBlock{BrokerID: brokerID, BlockStart: cur.BlockEnd + 1, BlockEnd: cur.BlockEnd + ProducerIDBlockSize}
		}
		ok, err := c.claimProducerIDBlock(next, s.Version)
		if err != nil {
			return ProducerIDBlock{}, fmt.Errorf("allocate producer id block: %w", err)
		}
		if ok {
			return next, nil
		}
	}
}

// claimProducerIDBlock writes next over the block znode at version. A version conflict may be our own write
// applied before a connection loss and then retried; like Kafka's checkProducerIdBlockZkData, the write counts
// as done when the znode now holds exactly next.
func (c *Client) claimProducerIDBlock(next ProducerIDBlock, version int32) (bool, error) {
	ok, _, err := c.ConditionalUpdatePath(ProducerIDBlockPath, next.Encode(), version)
	if err != nil || ok {
		return ok, err
	}
	b, s, err := c.GetDataAndStat(ProducerIDBlockPath)
	if err != nil || s == nil || len(b) == 0 {
		return false, err
	}
	cur, err := DecodeProducerIDBlock(b)
	if err != nil {
		return false, err
	}
	return cur == next, nil
}

// ---- consumer offsets (v0 OffsetCommit, offsets.storage=zookeeper) ----

// GetConsumerOffset reads /consumers/<g>/offsets/<t>/<p>; ok is false if absent.
func (c *Client) GetConsumerOffset(group string, tp TopicPartition) (int64, bool, error) {
	b, s, err := c.GetDataAndStat(ConsumerOffsetPath(group, tp.Topic, tp.Partition))
	if err != nil || s == nil || b == nil {
		return 0, false, err
	}
	off, err := DecodeConsumerOffset(b)
	return off, err == nil, err
}

// SetOrCreateConsumerOffset writes the offset, creating the path if needed.
func (c *Client) SetOrCreateConsumerOffset(group string, tp TopicPartition, offset int64) error {
	path := ConsumerOffsetPath(group, tp.Topic, tp.Partition)
	_, err := c.Set(path, EncodeConsumerOffset(offset), MatchAnyVersion)
	if errors.Is(err, zk.ErrNoNode) {
		err = c.createRecursive(path, EncodeConsumerOffset(offset), true)
		if errors.Is(err, zk.ErrNodeExists) {
			_, err = c.Set(path, EncodeConsumerOffset(offset), MatchAnyVersion)
		}
	}
	return err
}

// ---- /feature ----

// GetFeatureZNode reads /feature with its zkVersion; ok is false if absent.
func (c *Client) GetFeatureZNode() (FeatureZNode, int32, bool, error) {
	b, s, err := c.GetDataAndStat(FeaturePath)
	if err != nil || s == nil {
		return FeatureZNode{}, 0, false, err
	}
	f, err := DecodeFeatureZNode(b)
	return f, s.Version, err == nil, err
}

// CreateFeatureZNode creates /feature.
func (c *Client) CreateFeatureZNode(f FeatureZNode) error {
	_, err := c.Create(FeaturePath, f.Encode(), 0)
	return err
}

// UpdateFeatureZNode rewrites /feature and returns its new zkVersion.
func (c *Client) UpdateFeatureZNode(f FeatureZNode) (int32, error) {
	s, err := c.Set(FeaturePath, f.Encode(), MatchAnyVersion)
	if err != nil {
		return 0, err
	}
	return s.Version, nil
}
