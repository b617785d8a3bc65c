package token

// UnmarshalJSON decodes a claim set, see [AccessClaims]. JSON null leaves c
// unchanged.
func (c *AccessClaims) UnmarshalJSON(data []byte) error {
	d := claimDecoder{data: data}
	if d.null() {
		return nil
	}
	var out AccessClaims
	for d.next() {
		switch string(d.key) {
		case "aud":
			d.once(0)
			out.Audience = d.audience()
		case "iss":
			d.once(1)
			out.Issuer = d.str()
		case "iat":
			d.once(2)
			out.IssuedAt = d.int()
		case "nbf":
			d.once(3)
			out.NotBefore = d.int()
		case "exp":
			d.once(4)
			out.ExpiresAt = d.int()
		case "acr":
			d.once(5)
			out.ACR = d.str()
		case "aio":
			d.once(6)
			out.AIO = d.str()
		case "amr":
			d.once(7)
			out.AMR = d.strs()
		case "appid":
			d.once(8)
			out.AppID = d.str()
		case "appidacr":
			d.once(9)
			out.AppIDACR = d.str()
		case "azp":
			d.once(10)
			out.AuthorizedParty = d.str()
		case "azpacr":
			d.once(11)
			out.AuthorizedPartyACR = d.str()
		case "groups":
			d.once(12)
			out.Groups = d.strs()
		case "hasgroups":
			d.once(13)
			out.HasGroups = d.boolean()
		case "_claim_names":
			d.once(14)
			d.generic(&out.ClaimNames)
		case "_claim_sources":
			d.once(15)
			d.generic(&out.ClaimSources)
		case "idp":
			d.once(16)
			out.IdentityProvider = d.str()
		case "idtyp":
			d.once(17)
			out.IDType = d.str()
		case "ipaddr":
			d.once(18)
			out.IPAddress = d.str()
		case "name":
			d.once(19)
			out.Name = d.str()
		case "oid":
			d.once(20)
			out.ObjectID = d.str()
		case "preferred_username":
			d.once(21)
			out.PreferredUsername = d.str()
		case "rh":
			d.once(22)
			out.RH = d.str()
		case "roles":
			d.once(23)
			out.Roles = d.strs()
		case "scp":
			d.once(24)
			out.Scope = d.str()
		case "sub":
			d.once(25)
			out.Subject = d.str()
		case "tid":
			d.once(26)
			out.TenantID = d.str()
		case "unique_name":
			d.once(27)
			out.UniqueName = d.str()
		case "upn":
			d.once(28)
			out.UPN = d.str()
		case "uti":
			d.once(29)
			out.TokenID = d.str()
		case "ver":
			d.once(30)
			out.Version = d.str()
		case "wids":
			d.once(31)
			out.WIDs = d.strs()
		case "xms_cc":
			d.once(32)
			out.ClientCapabilities = d.strs()
		default:
			if foldsTo(string(d.key), accessStandard) {
				d.fail("claim %.64q differs from a standard claim only by case", d.key)
			}
			d.extra(&out.Extra)
		}
	}
	if err := d.finish(); err != nil {
		return err
	}
	*c = out
	return nil
}

// UnmarshalJSON decodes a claim set, see [IDClaims]. JSON null leaves c
// unchanged.
func (c *IDClaims) UnmarshalJSON(data []byte) error {
	d := claimDecoder{data: data}
	if d.null() {
		return nil
	}
	var out IDClaims
	for d.next() {
		switch string(d.key) {
		case "aud":
			d.once(0)
			out.Audience = d.audience()
		case "iss":
			d.once(1)
			out.Issuer = d.str()
		case "iat":
			d.once(2)
			out.IssuedAt = d.int()
		case "nbf":
			d.once(3)
			out.NotBefore = d.int()
		case "exp":
			d.once(4)
			out.ExpiresAt = d.int()
		case "aio":
			d.once(5)
			out.AIO = d.str()
		case "at_hash":
			d.once(6)
			out.AccessTokenHash = d.str()
		case "c_hash":
			d.once(7)
			out.CodeHash = d.str()
		case "email":
			d.once(8)
			out.Email = d.str()
		case "groups":
			d.once(9)
			out.Groups = d.strs()
		case "hasgroups":
			d.once(10)
			out.HasGroups = d.boolean()
		case "_claim_names":
			d.once(11)
			d.generic(&out.ClaimNames)
		case "_claim_sources":
			d.once(12)
			d.generic(&out.ClaimSources)
		case "idp":
			d.once(13)
			out.IdentityProvider = d.str()
		case "login_hint":
			d.once(14)
			out.LoginHint = d.str()
		case "name":
			d.once(15)
			out.Name = d.str()
		case "nonce":
			d.once(16)
			out.Nonce = d.str()
		case "oid":
			d.once(17)
			out.ObjectID = d.str()
		case "preferred_username":
			d.once(18)
			out.PreferredUsername = d.str()
		case "rh":
			d.once(19)
			out.RH = d.str()
		case "roles":
			d.once(20)
			out.Roles = d.strs()
		case "sid":
			d.once(21)
			out.SessionID = d.str()
		case "sub":
			d.once(22)
			out.Subject = d.str()
		case "tid":
			d.once(23)
			out.TenantID = d.str()
		case "unique_name":
			d.once(24)
			out.UniqueName = d.str()
		case "uti":
			d.once(25)
			out.TokenID = d.str()
		case "ver":
			d.once(26)
			out.Version = d.str()
		default:
			if foldsTo(string(d.key), idStandard) {
				d.fail("claim %.64q differs from a standard claim only by case", d.key)
			}
			d.extra(&out.Extra)
		}
	}
	if err := d.finish(); err != nil {
		return err
	}
	*c = out
	return nil
}
