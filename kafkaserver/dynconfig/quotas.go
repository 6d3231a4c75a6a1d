package dynconfig

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zkafka/zkafka/kafkaserver/quota"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// quotaEntity turns a quota config's znode name into its entity: "clients" with a sanitized client id or
// <default>; "users" with "<user>" or "<user>/clients/<client>" (UserConfigHandler's forms).
func quotaEntity(entityType, name string) (quota.Entity, error) {
	client := func(s string) (string, error) {
		if s == DefaultEntity {
			return s, nil
		}
		return quota.Desanitize(s)
	}
	switch entityType {
	case zkmeta.ConfigTypeClient:
		c, err := client(name)
		return quota.Entity{Client: c}, err
	case zkmeta.ConfigTypeUser:
		parts := strings.Split(name, "/")
		switch {
		case len(parts) == 1 && parts[0] != "":
			return quota.Entity{User: parts[0]}, nil
		case len(parts) == 3 && parts[0] != "" && parts[1] == zkmeta.ConfigTypeClient && parts[2] != "":
			c, err := client(parts[2])
			return quota.Entity{User: parts[0], Client: c}, err
		}
	}
	return quota.Entity{}, fmt.Errorf("invalid quota entity %s/%s", entityType, name)
}

// applyQuota is ClientIdConfigHandler / UserConfigHandler.processConfigChanges: the entity's quotas become those
// of its znode (none when it is gone).
func (m *Manager) applyQuota(entityType, name string) error {
	if m.cfg.OnQuotaChange == nil && m.cfg.OnUserChange == nil {
		return nil
	}
	e, err := quotaEntity(entityType, name)
	if err != nil {
		return err
	}
	config, err := m.cfg.ZK.GetEntityConfigs(entityType, name)
	if err != nil {
		return fmt.Errorf("quota configs of %s/%s: %w", entityType, name, err)
	}
	if m.cfg.OnUserChange != nil && e.User != "" && e.Client == "" && !strings.Contains(name, "/") {
		user, err := quota.Desanitize(name)
		if err != nil {
			return fmt.Errorf("user %s: %w", name, err)
		}
		if err := m.cfg.OnUserChange(user, config); err != nil {
			return err
		}
	}
	if m.cfg.OnQuotaChange == nil {
		return nil
	}
	if err := m.cfg.OnQuotaChange(e, config); err != nil {
		return err
	}
	m.logger.Info("applied quota config", "entity", entityType+"/"+name, "config", config)
	return nil
}

// applyIP is IpConfigHandler.processConfigChanges: the IP's connection rate quota becomes its znode's.
func (m *Manager) applyIP(name string) error {
	if m.cfg.OnIPChange == nil {
		return nil
	}
	config, err := m.cfg.ZK.GetEntityConfigs(zkmeta.ConfigTypeIP, name)
	if err != nil {
		return fmt.Errorf("quota configs of %s/%s: %w", zkmeta.ConfigTypeIP, name, err)
	}
	if err := m.cfg.OnIPChange(name, config); err != nil {
		return err
	}
	m.logger.Info("applied quota config", "entity", zkmeta.ConfigTypeIP+"/"+name, "config", config)
	return nil
}

// LoadQuotas applies every client, user and IP quota in ZooKeeper, as DynamicConfigManager.startup hands each
// config of /config/clients, /config/users, /config/users/<user>/clients and /config/ips to its handler. A bad
// entity is logged and skipped.
func (m *Manager) LoadQuotas() error {
	if m.cfg.OnQuotaChange == nil && m.cfg.OnUserChange == nil && m.cfg.OnIPChange == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var names []struct{ typ, name string }
	clients, err := m.cfg.ZK.GetAllEntitiesWithConfig(zkmeta.ConfigTypeClient)
	if err != nil {
		return fmt.Errorf("client quotas: %w", err)
	}
	for _, c := range clients {
		names = append(names, struct{ typ, name string }{zkmeta.ConfigTypeClient, c})
	}
	users, err := m.cfg.ZK.GetAllEntitiesWithConfig(zkmeta.ConfigTypeUser)
	if err != nil {
		return fmt.Errorf("user quotas: %w", err)
	}
	userClients, err := m.cfg.ZK.GetAllUserClientEntities()
	if err != nil {
		return fmt.Errorf("user and client quotas: %w", err)
	}
	for _, u := range append(users, userClients...) {
		names = append(names, struct{ typ, name string }{zkmeta.ConfigTypeUser, u})
	}
	ips, err := m.cfg.ZK.GetAllEntitiesWithConfig(zkmeta.ConfigTypeIP)
	if err != nil {
		return fmt.Errorf("IP quotas: %w", err)
	}
	for _, ip := range ips {
		names = append(names, struct{ typ, name string }{zkmeta.ConfigTypeIP, ip})
	}
	var errs []error
	for _, n := range names {
		apply := m.applyQuota
		if n.typ == zkmeta.ConfigTypeIP {
			apply = func(_, name string) error { return m.applyIP(name) }
		}
		if err := apply(n.typ, n.name); err != nil {
			m.logger.Error("quota config not applied", "entity", n.typ+"/"+n.name, "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
