package entra

import (
	"strings"

	"github.com/steward-oss/steward/graph"
)

// Directory role template ids (the same in every tenant).
const (
	roleGlobalAdmin            = "62e90394-69f5-4237-9190-012177145e10"
	rolePrivilegedRoleAdmin    = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	rolePrivilegedAuthAdmin    = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
	roleGlobalReader           = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	roleDirectoryReaders       = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
	roleSecurityReader         = "5d6b6bb7-de71-4623-b4af-96380a352509"
	roleApplicationAdmin       = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	roleCloudApplicationAdmin  = "158c047a-c907-4556-b7ef-446551a6b5f7"
	msGraphAppID               = "00000003-0000-0000-c000-000000000000"
	defaultAppRoleID           = "00000000-0000-0000-0000-000000000000"
	armOwner                   = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	armUserAccessAdministrator = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
	armContributor             = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	armReader                  = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
)

// directoryRoleNames names the template ids this file refers to, for
// exports that carry only ids.
var directoryRoleNames = map[string]string{
	roleGlobalAdmin:           "Global Administrator",
	rolePrivilegedRoleAdmin:   "Privileged Role Administrator",
	rolePrivilegedAuthAdmin:   "Privileged Authentication Administrator",
	roleGlobalReader:          "Global Reader",
	roleDirectoryReaders:      "Directory Readers",
	roleSecurityReader:        "Security Reader",
	roleApplicationAdmin:      "Application Administrator",
	roleCloudApplicationAdmin: "Cloud Application Administrator",
}

// classifyDirectoryRole: Global Administrator is admin of the tenant.
// Privileged Role Administrator (assigns any role, including Global
// Administrator, to itself), Privileged Authentication Administrator
// (resets the credentials of Global Administrators), and Application and
// Cloud Application Administrator (add credentials to any application,
// one holding Global Administrator included) are admin-equivalent.
// Reader roles read; every other administrator role writes.
func classifyDirectoryRole(templateID, name string) graph.Privilege {
	switch strings.ToLower(templateID) {
	case roleGlobalAdmin, rolePrivilegedRoleAdmin, rolePrivilegedAuthAdmin, roleApplicationAdmin, roleCloudApplicationAdmin:
		return graph.PrivAdmin
	case roleGlobalReader, roleDirectoryReaders, roleSecurityReader:
		return graph.PrivRead
	}
	if strings.HasSuffix(name, "Reader") || strings.HasSuffix(name, "Readers") {
		return graph.PrivRead
	}
	return graph.PrivWrite
}

// graphAppRoles names well-known Microsoft Graph application permissions,
// used when the export does not include the Graph service principal's
// appRoles.
var graphAppRoles = map[string]string{
	"9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8": "RoleManagement.ReadWrite.Directory",
	"06b708a9-e830-4db3-a914-8e69da51d44f": "AppRoleAssignment.ReadWrite.All",
	"1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9": "Application.ReadWrite.All",
	"19dbc75e-c2e2-444c-a770-ec69d8559fc7": "Directory.ReadWrite.All",
	"7ab1d382-f21e-4acd-a863-ba3e13f7da61": "Directory.Read.All",
	"9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30": "Application.Read.All",
	"df021288-bdef-4463-88db-98f22de89214": "User.Read.All",
	"246dd0d5-5bd0-4def-940b-0421030a5b68": "Policy.Read.All",
	"e2a3a72e-5f79-4c64-b1b1-878b674786c9": "Mail.ReadWrite",
	"01c0a623-fc9b-48e9-b794-0756f8e8f067": "Policy.ReadWrite.ConditionalAccess",
	"75359482-378d-4052-8f01-80520e7db3cd": "Files.ReadWrite.All",
	"62a82d76-70ea-41e2-9197-370581804d09": "Group.ReadWrite.All",
	"c7fbd983-d9aa-4fa7-84b8-17382c103bc4": "RoleManagement.Read.All",
	"37730810-e9ba-4e46-b07e-8ca78d182097": "Policy.Read.ConditionalAccess",
	"693c5e45-0940-467d-9b8a-1022fb9d42ef": "Mail.ReadBasic.All",
}

// graphAdminPermissions let an application grant itself any directory role
// (RoleManagement.ReadWrite.Directory), any app permission, including the
// former (AppRoleAssignment.ReadWrite.All), or act as any application by
// adding a credential to it (Application.ReadWrite.All): admin-equivalent
// for the tenant. Directory.ReadWrite.All is write: it does not assign
// roles or touch application credentials.
var graphAdminPermissions = map[string]bool{
	"RoleManagement.ReadWrite.Directory": true,
	"AppRoleAssignment.ReadWrite.All":    true,
	"Application.ReadWrite.All":          true,
}

func classifyAppRole(value string, onGraph bool) graph.Privilege {
	if onGraph && graphAdminPermissions[value] {
		return graph.PrivAdmin
	}
	v := strings.ToLower(value)
	switch {
	case strings.Contains(v, "write"), strings.Contains(v, "manage"), strings.Contains(v, "send"),
		strings.Contains(v, "fullcontrol"), strings.Contains(v, "full_access"):
		return graph.PrivWrite
	case strings.Contains(v, ".read"), strings.HasPrefix(v, "read"):
		return graph.PrivRead
	}
	return graph.PrivWrite
}

// classifyARMRole: Owner and User Access Administrator (which assigns
// Owner to itself) are admin at a scope that is an account (root,
// management group, subscription), write below it. Contributor writes,
// Reader reads. Other definitions are judged by their actions.
func classifyARMRole(defID string, def *armDefinition, accountScope bool) graph.Privilege {
	admin := graph.PrivWrite
	if accountScope {
		admin = graph.PrivAdmin
	}
	switch defID {
	case armOwner, armUserAccessAdministrator:
		return admin
	case armContributor:
		return graph.PrivWrite
	case armReader:
		return graph.PrivRead
	}
	if def == nil {
		return graph.PrivWrite
	}
	all, read := false, true
	for _, p := range def.Properties.Permissions {
		for _, a := range p.Actions {
			if a == "*" && len(p.NotActions) == 0 {
				all = true
			}
			if !strings.HasSuffix(strings.ToLower(a), "/read") {
				read = false
			}
		}
	}
	switch {
	case all:
		return admin
	case read:
		return graph.PrivRead
	}
	return graph.PrivWrite
}
