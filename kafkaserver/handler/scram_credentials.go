package handler

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/quota"
	"github.com/zkafka/zkafka/kafkaserver/sasl"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
	"github.com/zkafka/zkafka/kwire"
)

// scramMechanisms are ScramMechanism's type codes (0 is UNKNOWN).
var scramMechanisms = []struct {
	code int8
	name string
}{{1, sasl.MechanismScramSHA256}, {2, sasl.MechanismScramSHA512}}

func scramMechanismName(code int8) string {
	for _, m := range scramMechanisms {
		if m.code == code {
			return m.name
		}
	}
	return ""
}

// scramMaxIterations is ZkAdminManager's upper bound for an upsertion.
const scramMaxIterations = 16384

func (h *Handlers) registerScramCredentials(mux *kwire.Mux) {
	mux.Handle(kmsg.DescribeUserSCRAMCredentials.Int16(), 0, 0, h.describeUserScramCredentials)
	mux.Handle(kmsg.AlterUserSCRAMCredentials.Int16(), 0, 0, h.alterUserScramCredentials)
}

// describeUserScramCredentials is ZkAdminManager.describeUserScramCredentials: each user's mechanisms and
// iterations from /config/users (never the credentials); all users that have one when none are named.
func (h *Handlers) describeUserScramCredentials(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.DescribeUserSCRAMCredentialsRequest)
	if !ok {
		return nil, fmt.Errorf("describeUserScramCredentials: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.DescribeUserSCRAMCredentialsResponse)
	resp.Version = req.Version
	if !h.authorizeCluster(rc, kmsg.ACLOperationDescribe) {
		// DescribeUserScramCredentialsRequest.getErrorResponse: the error alone.
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	results := map[string]kmsg.DescribeUserSCRAMCredentialsResponseResult{}
	// add records a user's credentials; a user named in the request without any is an error.
	add := func(user string, config map[string]string, explicit bool) {
		res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		res.User = user
		var infos []kmsg.DescribeUserSCRAMCredentialsResponseResultCredentialInfo
		for _, m := range scramMechanisms {
			v, ok := config[m.name]
			if !ok {
				continue
			}
			cred, err := sasl.ParseScramCredential(v)
			if err != nil {
				res.ErrorCode, res.ErrorMessage = kerr.UnknownServerError.Code, kmsg.StringPtr(err.Error())
				results[user] = res
				return
			}
			info := kmsg.NewDescribeUserSCRAMCredentialsResponseResultCredentialInfo()
			info.Mechanism, info.Iterations = m.code, int32(cred.Iterations)
			infos = append(infos, info)
		}
		switch {
		case infos != nil:
			res.CredentialInfos = infos
			results[user] = res
		case explicit:
			res.ErrorCode = kerr.ResourceNotFound.Code
			res.ErrorMessage = kmsg.StringPtr("Attempt to describe a user credential that does not exist: " + user)
			results[user] = res
		}
	}
	if len(req.Users) == 0 {
		// Every user znode, under its (sanitized) znode name, as fetchAllEntityConfigs gives them.
		users, err := h.zk.GetAllEntitiesWithConfig(zkmeta.ConfigTypeUser)
		if err == nil {
			for _, u := range users {
				var config map[string]string
				if config, err = h.zk.GetEntityConfigs(zkmeta.ConfigTypeUser, u); err != nil {
					break
				}
				add(u, config, false)
			}
		}
		if err != nil {
			resp.ErrorCode, resp.ErrorMessage = apiError(err)
			return resp, nil
		}
		names := make([]string, 0, len(results))
		for u := range results {
			names = append(names, u)
		}
		slices.Sort(names)
		for _, u := range names {
			resp.Results = append(resp.Results, results[u])
		}
		return resp, nil
	}
	count := map[string]int{}
	for _, u := range req.Users {
		count[u.Name]++
	}
	fail := func(user string, code int16, msg string) {
		res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		res.User, res.ErrorCode, res.ErrorMessage = user, code, kmsg.StringPtr(msg)
		results[user] = res
	}
	var order []string
	for _, u := range req.Users {
		if slices.Contains(order, u.Name) {
			continue
		}
		order = append(order, u.Name)
		switch {
		case u.Name == "":
			fail(u.Name, kerr.ResourceNotFound.Code, "Username must not be empty")
		case count[u.Name] > 1:
			fail(u.Name, kerr.DuplicateResource.Code,
				"Cannot describe SCRAM credentials for the same user twice in a single request: "+u.Name)
		default:
			config, err := h.zk.GetEntityConfigs(zkmeta.ConfigTypeUser, quota.Sanitize(u.Name))
			if err != nil {
				code, msg := apiError(err)
				res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
				res.User, res.ErrorCode, res.ErrorMessage = u.Name, code, msg
				results[u.Name] = res
				continue
			}
			add(u.Name, config, true)
		}
	}
	for _, u := range order {
		resp.Results = append(resp.Results, results[u])
	}
	return resp, nil
}

// alterUserScramCredentials is ZkAdminManager.alterUserScramCredentials, on the controller only: upsertions
// (salted passwords, turned into stored and server keys here) and deletions, checked per user first, then each
// valid user's config written with its change notification.
func (h *Handlers) alterUserScramCredentials(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.AlterUserSCRAMCredentialsRequest)
	if !ok {
		return nil, fmt.Errorf("alterUserScramCredentials: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)
	resp.Version = req.Version
	result := func(user string, code int16, msg *string) {
		res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		res.User, res.ErrorCode, res.ErrorMessage = user, code, msg
		resp.Results = append(resp.Results, res)
	}
	// handleAlterUserScramCredentialsRequest: on the controller, with ALTER on the cluster.
	if h.cache.ControllerID() != h.cfg.BrokerID {
		_, msg, _ := strings.Cut(kerr.NotController.Description, ": ")
		return scramAlterRefused(req, resp, kerr.NotController.Code, kmsg.StringPtr(msg)), nil
	}
	if !h.authorizeCluster(rc, kmsg.ACLOperationAlter) {
		return scramAlterRefused(req, resp, kerr.ClusterAuthorizationFailed.Code, nil), nil
	}

	// Requests that are illegal on their own: the last reason found for a user is reported (upsertions after
	// deletions), in the order the users first appear.
	var illegalOrder []string
	illegal := map[string]string{}
	markIllegal := func(user, msg string) {
		if _, ok := illegal[user]; !ok {
			illegalOrder = append(illegalOrder, user)
		}
		illegal[user] = msg
	}
	const unknownMechanism = "Unknown SCRAM mechanism"
	for _, d := range req.Deletions {
		switch {
		case d.Name == "":
			markIllegal(d.Name, "Username must not be empty")
		case scramMechanismName(d.Mechanism) == "":
			markIllegal(d.Name, unknownMechanism)
		}
	}
	for _, u := range req.Upsertions {
		switch {
		case u.Name == "":
			markIllegal(u.Name, "Username must not be empty")
		case scramMechanismName(u.Mechanism) == "":
			markIllegal(u.Name, unknownMechanism)
		case u.Iterations > scramMaxIterations:
			markIllegal(u.Name, "Too many iterations")
		case u.Iterations < sasl.ScramMinIterations:
			markIllegal(u.Name, "Too few iterations")
		}
	}
	for _, user := range illegalOrder {
		code := kerr.UnacceptableCredential.Code
		if illegal[user] == unknownMechanism {
			code = kerr.UnsupportedSaslMechanism.Code
		}
		result(user, code, kmsg.StringPtr(illegal[user]))
	}

	// A user whose (user, mechanism) pair appears twice is refused as a whole.
	type pair struct {
		user string
		mech int8
	}
	pairs := map[pair]int{}
	var users []string
	note := func(user string, mech int8) {
		if _, bad := illegal[user]; bad {
			return
		}
		pairs[pair{user, mech}]++
		if !slices.Contains(users, user) {
			users = append(users, user)
		}
	}
	for _, u := range req.Upsertions {
		note(u.Name, u.Mechanism)
	}
	for _, d := range req.Deletions {
		note(d.Name, d.Mechanism)
	}
	duplicated := map[string]bool{}
	for p, n := range pairs {
		if n > 1 {
			duplicated[p.user] = true
		}
	}
	var valid []string
	for _, u := range users {
		if duplicated[u] {
			result(u, kerr.DuplicateResource.Code, kmsg.StringPtr("A user credential cannot be altered twice in the same request"))
		} else {
			valid = append(valid, u)
		}
	}

	configs := map[string]map[string]string{}
	for _, u := range valid {
		config, err := h.zk.GetEntityConfigs(zkmeta.ConfigTypeUser, quota.Sanitize(u))
		if err != nil {
			code, msg := apiError(err)
			result(u, code, msg)
			continue
		}
		configs[u] = config
	}
	// Deleting a credential the user does not have fails the user.
	for _, d := range req.Deletions {
		config, ok := configs[d.Name]
		if !ok {
			continue
		}
		if _, has := config[scramMechanismName(d.Mechanism)]; !has {
			delete(configs, d.Name)
			result(d.Name, kerr.ResourceNotFound.Code, kmsg.StringPtr("Attempt to delete a user credential that does not exist"))
		}
	}
	for _, d := range req.Deletions {
		if config, ok := configs[d.Name]; ok {
			delete(config, scramMechanismName(d.Mechanism))
		}
	}
	failed := map[string]bool{}
	for _, u := range req.Upsertions {
		config, ok := configs[u.Name]
		if !ok || failed[u.Name] {
			continue
		}
		mech := scramMechanismName(u.Mechanism)
		cred, err := sasl.ScramCredentialFromSalted(mech, u.Salt, u.SaltedPassword, int(u.Iterations))
		if err != nil {
			failed[u.Name] = true
			result(u.Name, kerr.UnknownServerError.Code, kmsg.StringPtr(err.Error()))
			continue
		}
		config[mech] = cred.String()
	}
	for _, u := range valid {
		config, ok := configs[u]
		if !ok || failed[u] {
			continue
		}
		name := quota.Sanitize(u)
		err := h.zk.SetOrCreateEntityConfigs(zkmeta.ConfigTypeUser, name, config)
		if err == nil {
			_, err = h.zk.CreateConfigChangeNotification(zkmeta.ConfigTypeUser + "/" + name)
		}
		if err != nil {
			code, msg := apiError(err)
			result(u, code, msg)
			continue
		}
		result(u, 0, nil)
	}
	return resp, nil
}

// scramAlterRefused is AlterUserScramCredentialsRequest.getErrorResponse: every user named, sorted, with code.
func scramAlterRefused(req *kmsg.AlterUserSCRAMCredentialsRequest, resp *kmsg.AlterUserSCRAMCredentialsResponse,
	code int16, msg *string) *kmsg.AlterUserSCRAMCredentialsResponse {
	var users []string
	for _, d := range req.Deletions {
		users = append(users, d.Name)
	}
	for _, u := range req.Upsertions {
		users = append(users, u.Name)
	}
	slices.Sort(users)
	for _, u := range slices.Compact(users) {
		res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		res.User, res.ErrorCode, res.ErrorMessage = u, code, msg
		resp.Results = append(resp.Results, res)
	}
	return resp
}
